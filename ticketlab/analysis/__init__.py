"""Reports for lottery-ticket experiments: summaries over seeds, tables and plots.

Plots import matplotlib only when first used, so reading results and printing tables
stays light (and never imports PyTorch).
"""
from ..core.lazy import lazy_exports
from .points import Point, Summary, summarize
from .tables import matching_density, print_table, to_csv, to_markdown, wide_rows

__getattr__ = lazy_exports(__name__, {
    "plot_accuracy_vs_density": ".plots",
    "accuracy_vs_density_figure": ".plots",
})

__all__ = ["Point", "Summary", "accuracy_vs_density_figure", "matching_density", "plot_accuracy_vs_density",
           "print_table", "summarize", "to_csv", "to_markdown", "wide_rows"]
