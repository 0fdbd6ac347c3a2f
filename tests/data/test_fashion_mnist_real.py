"""The real Fashion-MNIST, as the Debian package installs it (skipped where it is absent)."""
import time

import pytest
import torch

from ticketlab.data import load_dataset, locate

from conftest import REAL_DEBIAN_ROOT  # noqa: E402  (pytest puts this folder on sys.path)
