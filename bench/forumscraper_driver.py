"""Time forumscraper (the multi-engine peer) on local pages: run by bench_real_pages.py inside the
bench-only Python 3.12 virtualenv (see bench/forumscraper_env/README.md), never in the project's venv.

    /work/bench-venvs/fs312/bin/python bench/forumscraper_driver.py < pages.json > timings.json

stdin: JSON list of {"id", "path", "url"}; stdout: JSON {"version", "pages": {id: {...}}}.

forumscraper's public API takes a URL plus, optionally, the page itself (``rq=``): given the page it
parses that instead of fetching. What is timed is ``Extractor().get_thread(url, rq=html)``: it
identifies the forum software from the page (its "guess" of the engine) and parses the thread page
into posts. Following the next page is switched off (``thread_pages_max=1``) and every socket
connection is refused, so nothing is fetched: a page it cannot parse without the network shows up as
an error, not as a download.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import best_times  # noqa: E402  (stdlib-only helper shared with the main benchmarks)


class NetworkRefused(RuntimeError):
    pass


def _refuse(*args, **kwargs):
    raise NetworkRefused(f"benchmark driver: network access refused ({args[1:] if len(args) > 1 else args})")


# No fetch can happen, whatever forumscraper's code path decides to do.
socket.socket.connect = _refuse  # type: ignore[method-assign]
socket.create_connection = _refuse  # type: ignore[assignment]


def main() -> None:
    import forumscraper
    from forumscraper import Extractor, Outputs

    pages = json.load(sys.stdin)
    settings = {"output": Outputs.data | Outputs.threads, "thread_pages_max": 1, "undisturbed": False,
                "logger": sys.stderr, "failed": None}
    extractor = Extractor(**settings)

    def thread_parse(page):
        state = extractor.get_thread(page["url"], rq=page["html"], **settings)
        threads = (state or {}).get("data", {}).get("threads") or []
        return threads[0] if threads else None

    out = {}
    for page in pages:
        raw = Path(page["path"]).read_bytes()
        # forumscraper works on text; it is given the same decoding our side uses.
        page = {**page, "html": raw.decode(page.get("encoding") or "utf-8", errors="replace")}
        try:
            thread = thread_parse(page)
        except Exception as error:  # an unsupported page: report it, keep timing the others
            out[page["id"]] = {"error": f"{type(error).__name__}: {error}"[:300]}
            continue
        if thread is None:
            out[page["id"]] = {"error": "no thread parsed (forum software not identified)"}
            continue
        posts = thread.get("posts") or []
        seconds, cpu_seconds = best_times(thread_parse, page, repeats=page.get("repeats", 5))
        out[page["id"]] = {"seconds": seconds, "cpu_seconds": cpu_seconds, "posts": len(posts),
                           "format": thread.get("format_version")}
    json.dump({"version": forumscraper.__version__, "python": sys.version.split()[0], "pages": out}, sys.stdout)


if __name__ == "__main__":
    main()
