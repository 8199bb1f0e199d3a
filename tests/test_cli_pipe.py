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
