"""What a plugin test loads stays in the test: the registry tables, the list of loaded
plugins and $TICKETLAB_PLUGINS."""
import pytest

from ticketlab.core import plugins
from ticketlab.core.registry import VERSIONS
from ticketlab.data.registry import ENTRIES
from ticketlab.models.families import FAMILIES


@pytest.fixture
def plugin_tables(restore_tables, monkeypatch):
    restore_tables(ENTRIES, FAMILIES, VERSIONS, plugins._LOADED)
    monkeypatch.delenv(plugins.ENV, raising=False)
