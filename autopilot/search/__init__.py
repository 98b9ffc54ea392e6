"""Search: strategies (ask/tell, ``strategies``), the trial runner (``runner``), the executors that run trials
(``executors``, ``processes``, ``cluster``) and the trial's spec and result (``spec``).

Import from the modules themselves: this package imports nothing, so ``autopilot.search.processes`` can start the
trials' server before the heavy libraries load."""
