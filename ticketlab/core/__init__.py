"""The ground floor: errors, atomic writes, progress, lazy exports and process identity.

Standard library (and Rich for progress bars) only: every other layer may import these,
and these import nothing else of the package.
"""
