"""Trials on a running Dask cluster, through the same ``concurrent.futures.Executor`` interface as local ones.

The train and validation frames are scattered to every worker once (not sent with each trial); workers hand back
each trial's result, pickled pipeline and traceback, and the job writes them into its folder, so workers need not
share its disk. A trial on a cluster cannot be killed: past its time limit it is recorded as failed and no longer
waited for.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from concurrent.futures import Executor

import pandas as pd

from autopilot.errors import ConfigError
from autopilot.search.runner import TrialData

CONNECT_TIMEOUT = "10s"


def _client_class() -> type:
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            "--cluster needs Dask's distributed package; install it with: pip install -c constraints.txt "
            "'autopilot[dask]'"
        ) from None
    return Client


ADDRESS = re.compile(r"((tcp|tls|ws|wss|ucx)://)?([^\s/:\[\]]+|\[[0-9a-fA-F:.]+\]):\d{1,5}")  # [scheme://]host:port


def check_cluster(address: str) -> None:
    """Refuse, in one line, an address that is not one or with no scheduler answering (before the job folder is
    made)."""
    if not ADDRESS.fullmatch(address):
        raise ConfigError(f"--cluster {address!r} is not a scheduler address; give tcp://HOST:PORT")
    client = _connect(address)
    client.close()


def _connect(address: str) -> object:
    try:
        return _client_class()(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"no Dask scheduler answers at {address} ({exc}); start one or check --cluster") from None


@contextlib.contextmanager
def cluster_executor(address: str, data: TrialData) -> Iterator[tuple[Executor, tuple, int]]:
    """The cluster's executor, the scattered (train, validation) frames to pass to each trial, and its threads."""
    client = _connect(address)
    try:
        frames = tuple(
            client.scatter(pd.read_parquet(path), broadcast=True) for path in (data.train_path, data.validation_path)
        )
        with client.get_executor(pure=False) as executor:
            yield executor, frames, sum(client.nthreads().values())
    finally:
        client.close()
