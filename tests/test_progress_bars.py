"""Long `miata data` commands show a tqdm bar on a terminal and nothing but their one-line summary when
stderr is piped (a pseudo-terminal stands in for the terminal)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "data"
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_big_dataset.py"), "--posts", "400", "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    return out


def run(args: list[str], *, terminal: bool) -> str:
    """The command's stderr, written to a pseudo-terminal or to a pipe."""
    cmd = [sys.executable, "-m", "miata_spiders.cli", *args]
    if not terminal:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stderr
    leader, follower = pty.openpty()
    # A terminal 120 columns wide (a new pty is 0 x 0, where tqdm draws nothing).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert process.wait(timeout=120) == 0
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("args", [["data", "stats"], ["data", "links", "--force", "--out"]], ids=["stats", "links"])
def test_bar_on_a_terminal_only(small_dataset, tmp_path, args):
    if args[-1] == "--out":
        args = [*args, str(tmp_path / "links.parquet")]
    args = [*args, "--data-dir", str(small_dataset)]
    on_terminal = run(args, terminal=True)
    piped = run(args, terminal=False)
    assert "\r" in on_terminal and ("it/s" in on_terminal or "/s]" in on_terminal), on_terminal
    assert "\r" not in piped and len(piped.strip().splitlines()) == 1, piped
    name = args[1]
    assert piped.startswith(f"{name}: ") and name in on_terminal
