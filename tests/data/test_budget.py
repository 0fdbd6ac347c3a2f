"""The device-data budget as users write it: the flag, the environment variable, the API."""
import pytest

import ticketlab
from ticketlab.data.budget import (DATA_BUDGET_ENV, DataBudgetError, data_budget, data_budget_setting, format_size,
                                   parse_size)
from ticketlab.core.errors import TicketlabError


@pytest.mark.parametrize("text, expected", [
    ("1024", 1024), ("0", 0), ("500MB", 500 * 10**6), ("2GiB", 2 * 2**30), ("2gib", 2 * 2**30),
    (" 1.5 GB ", 1_500_000_000), ("0.1GB", 100_000_000), ("64KiB", 65536), ("3B", 3), ("1TB", 10**12),
    ("1.9B", 1), (".5KiB", 512),
])
def test_sizes_in_the_forms_users_write(text, expected):
    assert parse_size(text) == expected


def test_an_int_is_bytes():
    assert parse_size(7) == 7 and data_budget(0) == 0 and data_budget(None) is None


@pytest.mark.parametrize("value", ["", "lots", "5 XB", "1e9", "-5MB", "5 MB MB", "MB", True, 2.5, -1])
def test_a_bad_size_says_what_was_given_and_what_is_valid(value):
    with pytest.raises(DataBudgetError) as caught:
        parse_size(value, "--device-data-budget")
    message = str(caught.value)
    assert isinstance(caught.value, TicketlabError) and "\n" not in message
    assert message.startswith(f"--device-data-budget {value!r} ")
    assert "500MB or 2GiB" in message


def test_the_flag_wins_over_the_environment():
    assert data_budget_setting("1KB", {DATA_BUDGET_ENV: "2KB"}) == 1000
    assert data_budget_setting(None, {DATA_BUDGET_ENV: "2KB"}) == 2000
    assert data_budget_setting(None, {DATA_BUDGET_ENV: "  "}) is None  # set but empty: as unset
    assert data_budget_setting(None, {}) is None


def test_a_bad_environment_variable_is_named():
    with pytest.raises(DataBudgetError, match=rf"^\${DATA_BUDGET_ENV} 'big' is not a size"):
        data_budget_setting(None, {DATA_BUDGET_ENV: "big"})


def test_run_refuses_a_bad_budget_before_touching_the_runs_folder(tmp_path):
    spec = ticketlab.TrainSpec(model="mlp_8", dataset="synthetic", duration="1it")
    with pytest.raises(DataBudgetError, match="^data_budget 'half' is not a size"):
        ticketlab.run(spec, runs_dir=tmp_path / "runs", data_budget="half")
    with pytest.raises(DataBudgetError):
        ticketlab.run_many([spec], runs_dir=tmp_path / "runs", data_budget=-3)
    assert not (tmp_path / "runs").exists()


def test_sizes_for_people():
    assert format_size(512) == "512 B"
    assert format_size(202752) == "198.0 KiB"
    assert format_size(3 * 2**30) == "3.0 GiB"


# -- the command line ---------------------------------------------------------------------
TINY = ["--model", "mlp_16", "--dataset", "synthetic", "--steps", "4", "--device", "cpu"]


def test_the_flag_streams_the_data_and_says_so(tmp_path, monkeypatch, capsys):
    from ticketlab.cli.main import main

    monkeypatch.setenv(DATA_BUDGET_ENV, "1TB")  # the flag wins: the data would fit this one
    assert main(["train", *TINY, "--runs-dir", str(tmp_path), "--device-data-budget", "1KiB"]) == 0
    assert "over the device-data budget of 1.0 KiB: it stays in host memory" in capsys.readouterr().err


def test_the_environment_variable_applies_without_the_flag(tmp_path, monkeypatch, capsys):
    from ticketlab.cli.main import main

    monkeypatch.setenv(DATA_BUDGET_ENV, "100B")
    assert main(["train", *TINY, "--runs-dir", str(tmp_path)]) == 0
    assert "over the device-data budget of 100 B" in capsys.readouterr().err


def test_the_command_line_refuses_a_bad_size_in_one_line(tmp_path, capsys):
    from ticketlab.cli.main import main

    assert main(["train", *TINY, "--runs-dir", str(tmp_path), "--device-data-budget", "2 gigs"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ticketlab: error: --device-data-budget '2 gigs' is not a size") and "\n" not in err
    assert not list(tmp_path.iterdir())  # refused before any run started
