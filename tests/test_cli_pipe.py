"""`miata ... | head`: a reader that leaves early ends the command quietly, as Unix tools do."""

import subprocess
import sys


def test_a_closed_pipe_ends_the_command_without_a_traceback(sample_dataset):
    command = [sys.executable, "-m", "miata_spiders.cli", "data", "stats", "--json", "--data-dir",
               str(sample_dataset.data_dir)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first byte is written
    _, stderr = proc.communicate(timeout=120)
    stderr = stderr.decode()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_parsing_one_page_does_not_load_the_other_commands():
    """`miata parse` is run once per saved page (the stop hook runs it on every reference page): it must
    not pay for PRAW, pandas and pyarrow.dataset, which only reddit, crawl-all and data need."""
    import subprocess
    import sys
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "fixtures" / "miataturbo" / "thread-97412-page1.html"
    code = ("import sys; from miata_spiders.cli import main; status = main(['parse', '--site', 'miataturbo', "
            f"'--url', 'https://www.miataturbo.net/showthread.php?t=97412', {str(page)!r}]); "
            "print(sorted(m for m in ('praw', 'pandas', 'pyarrow.dataset', 'duckdb') if m in sys.modules)); sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert '"kind": "post"' in result.stdout
