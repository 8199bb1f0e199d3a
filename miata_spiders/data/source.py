"""Reading the dataset for ``miata data``: where it is, which parts are sound, and SQL views over them.

Everything streams: commands get a DuckDB connection with views over the Parquet parts and pull
record batches (``relation.fetch_record_batch``), so a command over 10 million posts never holds
them all in memory.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.dataset import posts_dir


class DataError(Exception):
    """A problem with the dataset or the command's arguments, said in one line (exit status 2)."""


def resolve_data_dir(arg: str | os.PathLike | None) -> Path:
    if arg:
        return Path(arg)
    from scrapy.utils.project import get_project_settings

    return Path(get_project_settings().get("MIATA_DATA_DIR"))


def known_sites(data_dir: Path) -> list[str]:
    root = posts_dir(data_dir)
    if not root.is_dir():
        return []
    return sorted(p.name.removeprefix("site=") for p in root.iterdir() if p.is_dir() and p.name.startswith("site="))


def site_parts(data_dir: Path, site: str) -> list[Path]:
    """A site's visible parts (pyarrow and DuckDB skip names starting with "." or "_": files being written)."""
    directory = posts_dir(data_dir) / f"site={site}"
    return sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", "_")))


@dataclass
class Parts:
    """The sound parts of the dataset, and the damaged ones skipped (only with ``skip_bad``)."""

    data_dir: Path
    files: list[Path]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def sites(self) -> list[str]:
        return sorted({p.parent.name.removeprefix("site=") for p in self.files})


def find_parts(data_dir: Path, sites: list[str] | None = None, *, skip_bad: bool = False) -> Parts:
    """Every readable part of ``sites`` (default: all). Raises DataError naming the problem: no data dir,
    no parts, an unknown site, or a corrupt part (unless ``skip_bad``, which reports and skips it)."""
    root = posts_dir(data_dir)
    if not root.is_dir():
        raise DataError(f"no dataset at {data_dir}: {root} does not exist (set --data-dir or MIATA_DATA_DIR)")
    available = known_sites(data_dir)
    for site in sites or ():
        if site not in available:
            raise DataError(f"unknown site {site!r} in {data_dir}; sites there: {', '.join(available) or 'none'}")
    files = [p for site in (sites or available) for p in site_parts(data_dir, site)]
    if not files:
        raise DataError(f"no Parquet parts under {root}" + (f" for {', '.join(sites)}" if sites else ""))
    parts = Parts(data_dir, [])
    for path in files:
        problem = part_problem(path)
        if problem is None:
            parts.files.append(path)
        elif skip_bad:
            parts.skipped.append((path, problem))
            print(f"warning: skipping damaged part {path}: {problem}", file=sys.stderr)
        else:
            raise DataError(f"damaged part {path}: {problem} (--skip-bad carries on without it)")
    if not parts.files:
        raise DataError(f"every part under {root} is damaged")
    return parts


def part_problem(path: Path) -> str | None:
    """Why a part cannot be read, or None. Reads only its footer: cheap enough for every part of every run."""
    try:
        pq.ParquetFile(path).metadata
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... for a truncated or foreign file
        return f"{type(exc).__name__}: {exc}"
    return None


def connect(parts: Parts):
    """A DuckDB connection with two views: ``posts`` (every stored version of every post) and
    ``latest_posts`` (one row per (site, post_id): the version scraped last)."""
    import duckdb

    con = duckdb.connect()
    # Dates are UTC in the dataset; grouping by year or month must not shift them into the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts.files)
    # union_by_name: parts written before a column existed read back with it null.
    con.execute(f"CREATE VIEW posts AS SELECT * FROM read_parquet([{files}], hive_partitioning = true, "
                "hive_types = {'site': VARCHAR}, union_by_name = true)")
    # Ties on scraped_at (two versions in one run) break on content_hash so the choice is deterministic.
    con.execute("CREATE VIEW latest_posts AS SELECT * FROM posts "
                "QUALIFY row_number() OVER (PARTITION BY site, post_id ORDER BY scraped_at DESC, content_hash DESC) = 1")
    return con


def check_output(path: Path, force: bool) -> Path:
    """``path`` if a command may write it: refuses an existing file or directory unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise DataError(f"{path} exists (--force replaces it)")
    return path


def progress_bar(**kwargs):
    """A tqdm bar on a terminal only (disable=None): nothing at all when stderr is piped or redirected."""
    from tqdm import tqdm

    return tqdm(disable=None, dynamic_ncols=True, **kwargs)


# DuckDB's own default is 80% of the machine's memory; a command that aggregates the whole dataset keeps
# to this and spills the rest (the latest-version window, large GROUP BYs) to a temporary directory.
DEFAULT_MEMORY_LIMIT = "256MB"


def bound_memory(con, limit: str = DEFAULT_MEMORY_LIMIT):
    """Cap DuckDB's memory on ``con`` at ``limit``; what does not fit spills under the system temp dir
    (DuckDB removes its files when the connection closes)."""
    import tempfile

    import duckdb

    try:
        con.execute("SET memory_limit = ?", [limit])
    except duckdb.Error as exc:
        raise DataError(f"memory limit {limit!r} not understood (e.g. 256MB, 2GB): {exc}") from None
    con.execute("SET temp_directory = ?", [str(Path(tempfile.gettempdir()) / f"miata-duckdb-{os.getpid()}")])
    # Output order comes from each query's ORDER BY; without this DuckDB buffers to keep scan order.
    con.execute("SET preserve_insertion_order = false")
    return con
