"""Typed errors. Every error a user can cause is an ``AutopilotError``; the CLI prints its one line and exits 2."""

from __future__ import annotations


class AutopilotError(Exception):
    """Root of every error autopilot raises on purpose. The message says what was wrong and what to do."""


class DataError(AutopilotError):
    """The input file or table cannot be read or used as it is."""


class TargetError(DataError):
    """The target column is absent, empty or unusable for the problem asked."""


class ConfigError(AutopilotError):
    """An option has a value autopilot cannot use (metric, problem type, algorithm, output folder)."""


class PredictionError(AutopilotError):
    """New rows cannot be scored by a trained pipeline (missing columns, empty input)."""


class JobError(AutopilotError):
    """A job folder is missing, incomplete or from an unfinished run."""


class NoSuccessfulTrialError(JobError):
    """Every trial of a job failed; the job folder holds each trial's error."""
