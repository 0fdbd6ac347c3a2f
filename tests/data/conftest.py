"""Isolation for data tests: no real cache, no system datasets, no downloads, no network.

Every test starts with an empty user cache and an empty stand-in for /usr/share/datasets,
downloads forbidden unless a test serves files itself from a loopback HTTP server.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from ticketlab.data import locate

REAL_DEBIAN_ROOT = locate.DEBIAN_ROOT


@pytest.fixture(autouse=True)
def isolated_data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("TICKETLAB_NO_DOWNLOAD", "1")
    monkeypatch.delenv("TICKETLAB_DATA", raising=False)
    for key in [k for k in os.environ if k.startswith("TICKETLAB_MIRROR_")]:
        monkeypatch.delenv(key)
    monkeypatch.setattr(locate, "DEBIAN_ROOT", tmp_path / "debian-datasets")


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file as the MNIST distribution writes it (uint8 values)."""
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def tiny_mnist_arrays(n_train: int = 12, n_test: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train, dtype=np.uint8),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test, dtype=np.uint8))


IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def write_mnist_files(folder: Path, arrays, gz: bool = True) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, array in zip(IDX_NAMES, arrays):
        data = idx_bytes(array)
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(data) if gz else data)
        paths.append(path)
    return paths


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# Helpers as fixtures, since test modules cannot import this conftest by name.
@pytest.fixture
def make_idx():
    return idx_bytes


@pytest.fixture
def mnist_arrays():
    return tiny_mnist_arrays


@pytest.fixture
def write_mnist():
    return write_mnist_files


@pytest.fixture
def md5_of():
    return md5


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    cut_short: set[str] = set()

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if self.path in self.cut_short:  # promise the whole file, send half, hang up
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A loopback server: set `.files[path] = bytes`, `.cut_short.add(path)`; `.url` is its base."""
    handler = type("Handler", (_Handler,), {"files": {}, "cut_short": set()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()
