"""Shared helpers of the MNIST benchmarks: one-thread setup, data, timing, reporting.

Import this module before numpy: it pins the BLAS libraries to one thread so that the
figures are per core and comparable between machines.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from nnlib.data import load_mnist  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# The course's CI layout keeps the data next to the repository, in ../shared/data.
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if "NNLIB_DATA" not in os.environ and (_SHARED / "mnist").is_dir():
    os.environ["NNLIB_DATA"] = str(_SHARED)


def parse_args(description, epochs, batch_size, lr, lr_decay, **extra_ints):
    """Command-line options shared by the benchmarks; ``extra_ints`` adds int options."""
    parser = argparse.ArgumentParser(description=description)
    for name, default in extra_ints.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument(
        "--lr-decay", type=float, default=lr_decay, help="multiply lr by this after each epoch"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-json", action="store_true", help="do not write results/*.json")
    return parser.parse_args()


def mnist(flat: bool):
    """(X_train, y_train, X_test, y_test), float32 pixels in [0, 1]."""
    X, y = load_mnist("train", flat=flat, progress=False)
    Xt, yt = load_mnist("test", flat=flat, progress=False)
    return X, y, Xt, yt


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(name, model, data, args, optimizer, target_error):
    """Train epoch by epoch, printing test error and seconds per epoch; return the results."""
    X, y, Xt, yt = data
    rng = np.random.default_rng(args.seed)
    print(f"{name}: {model.num_params():,} parameters, {len(X):,} training images, "
          f"batch {args.batch_size}, {optimizer}, lr decay {args.lr_decay} per epoch")  # fmt: skip
    seconds, history = [], []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        h = model.fit(X, y, epochs=1, batch_size=args.batch_size, optimizer=optimizer,
                      rng=rng, progress=False)  # fmt: skip
        seconds.append(time.perf_counter() - t0)
        optimizer.lr *= args.lr_decay  # a simple exponential schedule: calmer final epochs
        test_error = 1.0 - model.evaluate(Xt, yt)
        history.append({"loss": h["loss"][0], "train_accuracy": h["accuracy"][0],
                        "test_error": test_error})  # fmt: skip
        print(f"  epoch {epoch:2d}: train loss {h['loss'][0]:.4f}, test error "
              f"{100 * test_error:.2f}%, {seconds[-1]:.1f} s", flush=True)  # fmt: skip
    result = {
        "benchmark": name,
        "test_error": history[-1]["test_error"],
        "target_error": target_error,
        "met_target": history[-1]["test_error"] <= target_error,
        "seconds_per_epoch": float(np.mean(seconds)),
        "seconds_total": float(np.sum(seconds)),
        "peak_memory_mb": peak_mb(),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": repr(optimizer),
        "lr": args.lr,
        "lr_decay": args.lr_decay,
        "seed": args.seed,
        "history": history,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    verdict = "meets" if result["met_target"] else "MISSES"
    print(f"{name}: test error {100 * result['test_error']:.2f}% ({verdict} the target "
          f"{100 * target_error:.1f}%), {result['seconds_per_epoch']:.2f} s/epoch, "
          f"peak memory {result['peak_memory_mb']:.0f} MB")  # fmt: skip
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
