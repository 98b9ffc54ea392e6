"""Trial processes die with their job's process, whatever stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = """
import time
from autopilot.search.processes import TrialProcessExecutor

executor = TrialProcessExecutor()
executor.submit(time.sleep, 600)
while not executor._processes:
    time.sleep(0.05)
print(next(iter(executor._processes)).pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[-1][0] != "Z"  # a zombie has ended


@pytest.mark.skipif(not os.path.exists("/proc"), reason="reads process states from /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_trial_process_ends_when_its_job_is_stopped(stop: signal.Signals) -> None:
    job = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    trial = int(job.stdout.readline())
    assert _alive(trial)
    job.send_signal(stop)  # and not reaped yet: a zombie job must not keep its trials alive
    for _ in range(100):  # wait up to 10 s for the trial to notice
        if not _alive(trial):
            break
        time.sleep(0.1)
    assert not _alive(trial)
    job.wait()


def test_the_trials_server_exits_without_tearing_down_its_libraries() -> None:
    """The server's last preloaded module ends it at exit before handlers registered earlier (the libraries'
    teardown) run; handlers registered after it still run."""
    from autopilot.search.processes import PRELOAD

    assert PRELOAD[-1] == "autopilot.search.forkserver_exit"
    script = (
        "import atexit; atexit.register(print, 'earlier handler'); "
        "import autopilot.search.forkserver_exit; atexit.register(print, 'later handler')"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "later handler\n")


@pytest.mark.skipif(sys.platform != "linux", reason="trial processes are forked from a preloaded server on Linux")
def test_a_trial_process_starts_with_torchs_optimizer_machinery_imported() -> None:
    """A torch optimizer's first use imports torch._dynamo (about 2 s on 2 cores); every network trial paid it."""
    from autopilot.search.processes import TrialProcessExecutor

    executor = TrialProcessExecutor()
    try:  # eval, a builtin, pickles by name: the question is asked in the trial's process
        assert executor.submit(eval, "'torch._dynamo' in __import__('sys').modules").result(timeout=120) is True
    finally:
        executor.shutdown()
