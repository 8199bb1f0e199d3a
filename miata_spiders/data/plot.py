"""The picture of ``miata data stats --plot FILE.png``: posts per month per site, the top forums, and
field coverage per site, drawn from the same figures the tables and ``--json`` show.

Matplotlib's Agg backend is chosen explicitly: the command runs on servers and in cron, with no display.
The image is always PLOT_SIZE pixels, whatever the data.
"""

from __future__ import annotations

import os
from pathlib import Path

PLOT_SIZE = (1600, 1200)  # pixels (width, height)
DPI = 100


def draw_stats(figures: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.dates as mdates
    import matplotlib.ticker
    import matplotlib.pyplot as plt
    from datetime import datetime, timedelta

    from miata_spiders.data.stats import COVERAGE_FIELDS

    thousands = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}")

    sites = [s["site"] for s in figures["sites"]]
    colours = {site: plt.get_cmap("tab10")(i % 10) for i, site in enumerate(sites)}
    fig = plt.figure(figsize=(PLOT_SIZE[0] / DPI, PLOT_SIZE[1] / DPI), dpi=DPI, layout="constrained")
    # Two subfigures: the long forum labels below must not push the monthly chart's left edge in.
    upper, lower = fig.subfigures(2, 1, height_ratios=(1, 1.1))
    total = figures["total"]
    fig.suptitle(f"Miata posts: {total['posts']:,} posts in {total['threads']:,} threads, {len(sites)} site(s)",
                 fontsize=16, fontweight="bold")

    # Posts per month, stacked by site; months without posts count as zero, not as a gap bridged by a line.
    months = upper.subplots()
    per_site = {site: {} for site in sites}
    for point in figures["posts_per_month"]:
        per_site.setdefault(point["site"], {})[point["month"]] = point["posts"]
    all_months = _month_range([p["month"] for p in figures["posts_per_month"]])
    if all_months:
        xs = [datetime.strptime(m, "%Y-%m") for m in all_months]
        series = [[per_site[site].get(m, 0) for m in all_months] for site in sites]
        labels = [f"{site} ({sum(per_site[site].values()):,})" for site in sites]
        filled = sum(1 for i in range(len(all_months)) if any(values[i] for values in series))
        # An area suits a long run of months with posts; over sparse months it draws spikes between zeros.
        if len(all_months) >= 12 and filled >= 0.8 * len(all_months):
            months.stackplot(xs, *series, labels=labels, colors=[colours[site] for site in sites], alpha=0.85,
                             linewidth=0)
        else:
            # Few or sparse months: stacked bars, one per month with posts.
            bottom = [0] * len(xs)
            for site, values, label in zip(sites, series, labels):
                months.bar(xs, values, width=24, bottom=bottom, label=label, color=colours[site], alpha=0.85,
                           align="edge")
                bottom = [b + v for b, v in zip(bottom, values)]
            months.set_xlim(xs[0] - timedelta(days=62), xs[-1] + timedelta(days=90))
            months.set_ylim(top=max(bottom) * 1.2)
        months.legend(loc="upper left", frameon=False, ncols=min(len(sites), 5))
    months.set_title("Posts per month, stacked by site (latest version of each post, by posting date)", loc="left")
    months.set_ylabel("posts")
    months.yaxis.set_major_formatter(thousands)
    months.xaxis.set_major_locator(mdates.AutoDateLocator())
    months.xaxis.set_major_formatter(mdates.ConciseDateFormatter(months.xaxis.get_major_locator()))
    months.grid(alpha=0.3)
    months.set_ylim(bottom=0)
    forums, coverage = lower.subplots(1, 2, width_ratios=(1.25, 1))

    # Top forums, coloured by site.
    top = list(reversed(figures["top_forums"]))
    labels = [_shorten(f"{f['site']}: {f['forum']}", 48) for f in top]
    bars = forums.barh(range(len(top)), [f["posts"] for f in top], color=[colours.get(f["site"]) for f in top])
    forums.set_yticks(range(len(top)), labels, fontsize=9)
    forums.bar_label(bars, labels=[f"{f['posts']:,}" for f in top], padding=3, fontsize=8)
    forums.set_title("Top forums by posts", loc="left")
    forums.set_xlabel("posts")
    forums.xaxis.set_major_formatter(thousands)
    forums.margins(x=0.15)
    forums.grid(axis="x", alpha=0.3)

    # Field coverage: sites x fields, percentages written in the cells.
    fields = list(COVERAGE_FIELDS)
    values = [[(s["coverage"].get(f) if s["coverage"].get(f) is not None else float("nan")) for f in fields]
              for s in figures["sites"]]
    image = coverage.imshow(values or [[float("nan")] * len(fields)], cmap="RdYlGn", vmin=0, vmax=100,
                            aspect="auto")
    coverage.set_xticks(range(len(fields)), fields, rotation=35, ha="right", fontsize=9)
    coverage.set_yticks(range(len(sites)), sites, fontsize=9)
    for row, site_values in enumerate(values):
        for column, value in enumerate(site_values):
            if value == value:  # not NaN
                coverage.text(column, row, f"{value:.0f}%" if value in (0, 100) else f"{value:.1f}%",
                              ha="center", va="center", fontsize=8,
                              color="white" if value > 85 or value < 15 else "black")
    coverage.set_title("Field coverage, % of posts (a drop is parser drift)", loc="left")
    fig.colorbar(image, ax=coverage, shrink=0.8, label="%")

    # Written under a hidden name and renamed: a reader never sees half a PNG.
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(temporary, dpi=DPI, format="png")
        os.replace(temporary, path)
    finally:
        plt.close(fig)
        temporary.unlink(missing_ok=True)
    return path


def _month_range(months: list[str]) -> list[str]:
    """Every month from the first to the last of ``months`` ("YYYY-MM"), in order."""
    if not months:
        return []
    first, last = min(months), max(months)
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
