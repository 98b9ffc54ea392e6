"""Where models train: ``auto`` takes the GPU when torch sees one, ``cpu`` never does, ``cuda`` insists on it."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from autopilot.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")
# What a Linux machine shows when a GPU driver is loaded: NVIDIA's control device and driver folder, ROCm's kernel
# driver (torch.cuda drives AMD GPUs too), WSL2's GPU device. Without any of them torch can see no GPU.
GPU_DRIVER_PATHS = ("/dev/nvidiactl", "/proc/driver/nvidia", "/dev/kfd", "/dev/dxg")


@cache
def cuda_available() -> bool:
    """Whether torch sees a CUDA GPU. On Linux with no GPU driver loaded the answer is no without importing torch
    (1-2 s that would delay every job's first trial); elsewhere torch is asked."""
    if not gpu_driver_present():
        return False
    import torch

    return bool(torch.cuda.is_available())


def gpu_driver_present() -> bool:
    """False only where a GPU is certainly absent: Linux with none of ``GPU_DRIVER_PATHS``."""
    return not sys.platform.startswith("linux") or any(Path(p).exists() for p in GPU_DRIVER_PATHS)


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
