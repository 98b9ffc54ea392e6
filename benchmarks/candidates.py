"""Benchmark: training time of each candidate on the CPU and, where torch sees one, the GPU.

Data is generated (not a real dataset): a binary label from a noisy non-linear function of numeric features.

    python benchmarks/candidates.py                                 # 100,000 rows x 50 features, CPU (+ GPU if any)
    python benchmarks/candidates.py --rows 1000000 --devices cpu,cuda --fixed-epochs 3

Two measurements per candidate and device:
- ``defaults``: fit with the defaults a job uses (early stopping on a 20% validation split), as a user sees it;
- ``throughput`` (with ``--fixed-epochs N``): N epochs (Linear Learner, MLP) or 100 rounds (XGBoost) with no early
  stopping, the same work on every device, giving samples/s and, for the torch models, estimated TFLOP/s.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from autopilot.candidates import REGISTRY


def make_data(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)).astype(np.float32)
    w = rng.normal(size=features) / np.sqrt(features)
    signal = X @ w + 0.5 * np.sin(3 * X[:, 0]) * X[:, 1]
    y = (signal + 0.5 * rng.normal(size=rows) > 0).astype(np.int64)
    return X, y


def fixed_params(key: str, epochs: int) -> dict:
    return {
        "linear-learner": {"epochs": epochs, "early_stopping_patience": epochs + 1},
        "mlp": {"max_epochs": epochs, "patience": epochs + 1},
        "xgboost": {"num_round": 100, "early_stopping_rounds": 1000},
    }[key]


def train_flops_per_sample(model: object, features: int) -> float:
    """About 6 FLOPs per weight per sample for a forward and backward pass of dense layers."""
    if model.key == "mlp":
        weights = sum(p.numel() for p in model.network_.parameters())
    elif model.key == "linear-learner":
        weights = model.num_models * features
    else:
        return float("nan")
    return 6.0 * weights


def run_one(key: str, device: str, X: np.ndarray, y: np.ndarray, epochs: int | None) -> dict:
    split = int(0.8 * len(X))
    params = fixed_params(key, epochs) if epochs else {}
    model = REGISTRY[key](problem_type="binary", metric="AUC", device=device, **params)
    start = time.perf_counter()
    model.fit(X[:split], y[:split], X[split:], y[split:])
    seconds = time.perf_counter() - start
    accuracy = float((model.predict(X[split:]) == y[split:]).mean())
    out = {
        "candidate": key,
        "device": device,
        "mode": "throughput" if epochs else "defaults",
        "rows": split,
        "seconds": round(seconds, 3),
        "validation_accuracy": round(accuracy, 4),
    }
    if epochs and key != "xgboost":
        samples = split * epochs
        out["samples_per_s"] = round(samples / seconds)
        out["est_tflops"] = round(samples * train_flops_per_sample(model, X.shape[1]) / seconds / 1e12, 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--devices", default="cpu,auto", help="comma-separated: cpu, cuda, auto")
    parser.add_argument("--candidates", default=",".join(sorted(REGISTRY)))
    parser.add_argument("--fixed-epochs", type=int, default=0, help="also measure N fixed epochs per device")
    args = parser.parse_args()
    from autopilot.device import cuda_available, resolve_device

    devices = list(dict.fromkeys(resolve_device(d) for d in args.devices.split(",")))
    if cuda_available():
        import torch

        print(f"GPU: {torch.cuda.get_device_name(0)}")
    X, y = make_data(args.rows, args.features)
    results = []
    for key in args.candidates.split(","):
        for device in devices:
            for epochs in [None, args.fixed_epochs] if args.fixed_epochs else [None]:
                results.append(run_one(key, device, X, y, epochs))
                print(json.dumps(results[-1]), flush=True)
    for key in args.candidates.split(","):
        for mode in ("defaults", "throughput"):
            times = {r["device"]: r["seconds"] for r in results if r["candidate"] == key and r["mode"] == mode}
            if "cpu" in times and "cuda" in times:
                print(
                    f"{key} {mode}: GPU {times['cuda']:.2f}s vs CPU {times['cpu']:.2f}s = "
                    f"{times['cpu'] / times['cuda']:.1f}x"
                )


if __name__ == "__main__":
    main()
