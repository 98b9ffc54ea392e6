"""Imported only by the server that trial processes are forked from (the last of ``processes.PRELOAD``): when the
job's process ends, the server exits at once instead of tearing down the libraries it imported.

The server holds the command's standard output and error, inherited when it started. A caller that reads them to
the end (``subprocess.run(..., capture_output=True)``, ``autopilot run ... | tee``) waited about a second after the
job's last line for that teardown (torch, scikit-learn). Exit handlers registered after this module still run first;
the forked trial processes end with ``os._exit`` and never run these handlers."""

import atexit
import os

atexit.register(os._exit, 0)
