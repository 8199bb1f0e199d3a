"""What-if runs: measure the product changes docs/benchmarks.md recommends before anyone makes them.

Benchmarks only. ``bench/run_all.py`` starts a crawl or reparse with ``PYTHONPATH=bench/whatif`` and
``MIATA_WHATIF=item_to_row,check_row,user_agent`` (any subset); Python imports this file at start-up in
that process and in every worker it spawns, and it replaces the named product functions with the
proposed versions. The project never imports it. Outputs stay identical (the offline benchmark checks
the rows), only the cost changes.
"""

import os

WANTED = {name for name in os.environ.get("MIATA_WHATIF", "").split(",") if name}

if WANTED:
    from bench_whatif_patches import apply  # noqa: E402 - beside this file

    apply(WANTED)
