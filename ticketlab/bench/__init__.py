"""The consensual benchmark: suites shipped as data, run as specs, gathered into one
results file (`bench.json`) and one self-contained leaderboard page."""
