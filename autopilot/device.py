"""Where models train: ``auto`` takes the GPU when torch sees one, ``cpu`` never does, ``cuda`` insists on it."""

from __future__ import annotations

from functools import cache

from autopilot.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


@cache
def cuda_available() -> bool:
    """Whether torch sees a CUDA GPU (torch is imported only when this is asked)."""
    import torch

    return bool(torch.cuda.is_available())


def check_device(requested: str) -> str:
    """The requested device, refused with a one-line error if unknown or if ``cuda`` is asked for and absent.

    >>> check_device("cpu")
    'cpu'
    """
    if requested not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)}; got '{requested}'")
    if requested == "cuda" and not cuda_available():
        raise ConfigError(
            "--device cuda was asked for but torch sees no CUDA GPU (no GPU, no driver, or a CPU-only torch); "
            "use --device auto or --device cpu"
        )
    return requested


def resolve_device(requested: str) -> str:
    """``cpu`` or ``cuda``: what a model actually trains on for the requested device."""
    check_device(requested)
    if requested == "auto":
        return "cuda" if cuda_available() else "cpu"
    return requested
