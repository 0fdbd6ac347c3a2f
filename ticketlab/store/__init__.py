"""Content-addressed run directories, locks, atomic writes and the SQLite index."""
from .index import RunIndex
from .lock import RunLock
from .run_dir import RunDir
from .run_store import RunStore, default_runs_dir
from .unit import Unit

__all__ = ["RunDir", "RunIndex", "RunLock", "RunStore", "Unit", "default_runs_dir"]
