"""GPU against CPU: XGBoost trees per second and Keras epochs per second, with proof of the device.

Each measurement is a fresh process that fits one harness model (its defaults, trial 0) on one
task's protocol training part, `--repeats` times, the way a harness refit does
(`harness.tuning.fit_and_predict`):

- on the CPU with the GPU hidden (`CUDA_VISIBLE_DEVICES=-1`, `HARNESS_DEVICE=cpu`);
- on the GPU (`HARNESS_DEVICE=cuda`) when the machine has one (`nvidia-smi` lists a GPU).

Reported per model and device: the median fit seconds (the first fit apart: it pays for CUDA's
start-up and kernel autotuning), the boosting rounds or epochs each fit ran, their rate, the
speed-up of the GPU over the CPU, and the proof that the device was used:

- the model's own `fit_info` says the GPU mode ran (`gpu` = 1: no silent fallback to the CPU);
- XGBoost: the fitted booster's configuration names the device (`cuda:0`);
- Keras on TensorFlow: the GPU's peak memory during the fits (`tf.config.experimental`), and
  the mixed-precision policy harness chose for it;
- `nvidia-smi` lists the measuring process among the GPU's compute processes.

Boosting rounds are those trained: early stopping ends a fit 50 rounds after its best round
(`harness.models._boosting.PATIENCE`), up to the model's maximum. A network's fit seconds include
the learning-rate range test it starts with, as a harness fit does. `--epochs` caps a network's
epochs (5 by default, so a CNN's CPU side ends in minutes; early stopping may end a fit sooner).

    python benchmarks/gpu.py                                   # xgboost:flights, keras_cnn:mnist_5k
    python benchmarks/gpu.py --cases xgboost:diamonds keras_mlp:flights --repeats 5 --epochs 0
    python benchmarks/gpu.py --devices cpu                     # the CPU side only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from benchlib import Results, fmt, markdown, median, parse_args

DEFAULT_CASES = ("xgboost:flights", "keras_cnn:mnist_5k")


def _gpu_processes() -> list[int]:
    """Pids of the processes `nvidia-smi` lists as using a GPU ([] without a driver)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [int(line) for line in out.split() if line.strip().isdigit()]


def _booster_device(estimator: Any) -> str | None:
    """The device in a fitted XGBoost booster's configuration (None for other models)."""
    learner = getattr(estimator, "learner_", None)
    if learner is None or not hasattr(learner, "get_booster"):
        return None
    config = json.loads(learner.get_booster().save_config())
    return config["learner"]["generic_param"].get("device")


def _rounds(info: dict[str, float]) -> float:
    """Boosting rounds a fit trained: early stopping runs PATIENCE rounds past the best one."""
    from harness.models._boosting import PATIENCE

    return min(info["rounds_used"] + PATIENCE, info["rounds_max"])


def measure(
    case: str, device: str, repeats: int, n_jobs: int, seed: int, epochs: int | None = None
) -> dict[str, Any]:
    """Fit MODEL:TASK's defaults `repeats` times on this process's device (run in a child); a
    network trains for at most `epochs` epochs (its default maximum when None)."""
    from harness import devices, registry
    from harness.contracts.model import thread_limits
    from harness.protocol import cv
    from harness.protocol.splits import prepare

    model_name, task_name = case.split(":")
    model, task = registry.get_model(model_name), registry.get_task(task_name)
    data = prepare(task, task.load(), folds=task.folds, seed=seed)
    spec = cv.spec_for(
        task.problem_type, task.modality, data, n_jobs=n_jobs, device=devices.device()
    )
    keras = model_name.startswith("keras")
    params = dict(model.defaults)
    if keras and epochs:
        params["max_epochs"] = epochs
    fits = []
    for _ in range(repeats):
        estimator = model.build(spec, dict(params), seed=seed)
        with thread_limits(n_jobs):
            start = time.perf_counter()
            estimator.fit(data.X, data.y)
            seconds = time.perf_counter() - start
        info = cv.fit_info(estimator)
        units = info["epochs_used"] if keras else _rounds(info)
        fits.append({"seconds": seconds, "units": float(units), "gpu": info.get("gpu", 0.0)})
    proof: dict[str, Any] = {"booster_device": _booster_device(estimator)}
    if keras:
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        proof["tensorflow_gpus"] = len(gpus)
        proof["mixed_precision"] = bool(info.get("mixed_precision"))
        if gpus:
            peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
            proof["gpu_peak_memory_mb"] = peak / 2**20
    proof["listed_by_nvidia_smi"] = os.getpid() in _gpu_processes()
    timed = fits[1:] if len(fits) > 1 else fits  # the first fit pays for start-up
    return {
        "case": case,
        "model": model_name,
        "task": task_name,
        "device": device,
        "harness_device": spec.device,
        "training_rows": len(data.y),
        "unit": "epochs" if keras else "rounds",
        "fits": fits,
        "first_fit_seconds": fits[0]["seconds"],
        "fit_seconds": median([f["seconds"] for f in timed]),
        "units_per_fit": median([f["units"] for f in timed]),
        "units_per_second": median([f["units"] / f["seconds"] for f in timed]),
        "gpu_mode_ran": all(f["gpu"] == 1.0 for f in fits),
        "proof": proof,
        "n_jobs": n_jobs,
        "repeats": repeats,
    }


def _child(
    case: str, device: str, repeats: int, n_jobs: int, seed: int, epochs: int
) -> dict[str, Any]:
    """Measure in a fresh process, the GPU hidden from it for the CPU side."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", HARNESS_DEVICE=device)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    command = [sys.executable, __file__, "--one", case, "--devices", device]
    command += ["--repeats", str(repeats), "--jobs", str(n_jobs), "--seed", str(seed)]
    command += ["--epochs", str(epochs)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"case": case, "device": device, "error": done.stderr.strip()[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]]) -> str:
    cpu = {r["case"]: r for r in rows if r["device"] == "cpu" and "error" not in r}
    lines = []
    for r in rows:
        if "error" in r:
            lines.append([r["case"], r["device"], "-", "-", "-", "-", "-", "-", "failed", "-"])
            continue
        base = cpu.get(r["case"])
        speedup = (
            r["units_per_second"] / base["units_per_second"]
            if base and r["device"] != "cpu"
            else None
        )
        proof = r["proof"]
        shown = [
            f"booster on {proof['booster_device']}" if proof.get("booster_device") else "",
            f"TF GPUs {proof['tensorflow_gpus']}" if "tensorflow_gpus" in proof else "",
            f"peak {proof['gpu_peak_memory_mb']:.0f} MB" if "gpu_peak_memory_mb" in proof else "",
            "mixed_float16" if proof.get("mixed_precision") else "",
            "in nvidia-smi" if proof.get("listed_by_nvidia_smi") else "",
        ]
        lines.append(
            [
                r["case"],
                r["device"],
                r["training_rows"],
                fmt(r["first_fit_seconds"], 2),
                fmt(r["fit_seconds"], 2),
                f"{fmt(r['units_per_fit'], 0)} {r['unit']}",
                fmt(r["units_per_second"], 1),
                fmt(speedup, 2),
                "yes" if r["gpu_mode_ran"] else "no",
                "; ".join(s for s in shown if s) or "-",
            ]
        )
    header = [
        "model:task",
        "device",
        "training rows",
        "first fit s",
        "fit s (median)",
        "per fit",
        "per second",
        "GPU / CPU",
        "GPU mode ran",
        "proof",
    ]
    return markdown(header, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), help="MODEL:TASK")
    parser.add_argument(
        "--devices",
        nargs="+",
        choices=("cpu", "cuda"),
        help="default: cpu, and cuda when nvidia-smi lists a GPU",
    )
    parser.add_argument("--repeats", type=int, default=3, help="fits per model and device")
    parser.add_argument(
        "--epochs", type=int, default=5, help="most epochs a network trains (0: its default)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child: measure one case, print JSON
    args = parse_args(parser, argv, table)
    if args is None:
        return 0
    from harness import devices

    n_jobs = args.jobs or devices.cpu_count()
    if args.one:
        row = measure(args.one, args.devices[0], args.repeats, n_jobs, args.seed, args.epochs)
        print(json.dumps(row, default=float))
        return 0
    chosen = args.devices or (["cpu", "cuda"] if devices.gpu_count() > 0 else ["cpu"])
    results = Results(
        "gpu",
        {
            "cases": args.cases,
            "devices": chosen,
            "repeats": args.repeats,
            "jobs": n_jobs,
            "epochs": args.epochs,
        },
    )
    if "cuda" not in chosen:
        print("No GPU: measuring the CPU side only.", flush=True)
    for case in args.cases:
        for device in chosen:
            row = _child(case, device, args.repeats, n_jobs, args.seed, args.epochs)
            results.add(row)
            state = row.get("error", "").splitlines()[-1:] or [f"{row['fit_seconds']:.2f} s"]
            print(f"  {case} on {device}: {state[0]}", flush=True)
    print(table(results.payload["results"]))
    print(f"\nWrote {results.path}")
    failed = [r for r in results.payload["results"] if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
