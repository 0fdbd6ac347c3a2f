"""The ranking tables as Markdown (`rankings.md`, beside the page): for a paper, a README
or a review, where an HTML page cannot go."""
from __future__ import annotations

from .rankings import TEST_NAME, ranking_tables


def rankings_markdown(bench: dict) -> str:
    lines = [f"Mean test accuracy (%) over seeds, ± sample std, [95% t-interval]; "
             f"\u2248: not told apart from the best ({TEST_NAME})."]
    for table in ranking_tables(bench["records"]):
        lines += ["", f"**{table.setting}, density {table.target_density:.0%}**", "",
                  "| rank | method | accuracy | 95% CI | seeds | not learned | density | steps | p vs best |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in table.rows:
            mark = " \u2248" if row.tied_with_best and row.rank > 1 else ""
            p = "-" if row.p_vs_best is None else f"{row.p_vs_best:.3g}"
            lines.append(f"| {row.rank} | {row.method}{mark} | {100 * row.mean:.2f} ± {100 * row.std:.2f} | "
                         f"[{100 * row.ci_low:.2f}, {100 * row.ci_high:.2f}] | {row.n} | {row.not_learned} | "
                         f"{100 * row.density:.2f}% | {row.steps:,.0f} | {p} |")
    return "\n".join(lines) + "\n"
