"""In a torchrun job, dataset caches are written by rank 0 alone: the other ranks wait for
it and read what it wrote (`core.ranks.file_change`)."""
import numpy as np

from ticketlab.data import locate, mnist1d


def test_only_rank_0_generates_and_writes_mnist1d(tmp_path, monkeypatch):
    monkeypatch.setattr(locate, "cache_dir", lambda entry: tmp_path)
    generated = []
    real = mnist1d.generate
    monkeypatch.setattr(mnist1d, "generate", lambda: generated.append(1) or real())
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    # Rank 1 alone (no job to wait on here): rank 0 has not written, so it makes its own copy.
    arrays = mnist1d.load_mnist1d()
    assert not (tmp_path / mnist1d.CACHE_NAME).exists(), "rank 1 never writes"
    assert generated == [1]
    monkeypatch.setenv("RANK", "0")
    again = mnist1d.load_mnist1d()
    assert (tmp_path / mnist1d.CACHE_NAME).exists() and generated == [1, 1]
    monkeypatch.setenv("RANK", "1")
    read = mnist1d.load_mnist1d()  # now the cache is there: read, not generated
    assert generated == [1, 1]
    assert all(np.array_equal(a, b) and np.array_equal(a, c) for a, b, c in zip(arrays, again, read))


def test_only_rank_0_downloads(tmp_path, monkeypatch):
    from ticketlab.data.registry import dataset_entry
    entry = dataset_entry("fashion_mnist")
    monkeypatch.setattr(locate, "candidate_dirs", lambda entry, data_dir: [tmp_path / "cache"])
    monkeypatch.setattr(locate, "cache_dir", lambda entry: tmp_path / "cache")
    monkeypatch.setenv("TICKETLAB_NO_DOWNLOAD", "0")
    fetched = []

    def fetch(folder):
        fetched.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "done").write_text("x")
        return "fetched"

    def match(folder):
        return "found" if (folder / "done").exists() else None

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    import pytest
    from ticketlab.core.errors import DatasetError
    with pytest.raises(DatasetError, match="after rank 0 of this job downloaded them"):
        locate.find_or_fetch(entry, None, True, match, fetch)
    assert fetched == [], "rank 1 never downloads"
    monkeypatch.setenv("RANK", "0")
    assert locate.find_or_fetch(entry, None, True, match, fetch) == "fetched"
    monkeypatch.setenv("RANK", "1")
    assert locate.find_or_fetch(entry, None, True, match, fetch) == "found" and len(fetched) == 1
