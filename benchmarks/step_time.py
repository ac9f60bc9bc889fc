"""Time of one training step (forward + backward + SGD update), nnlib vs PyTorch, one thread.

Two models, the same architecture in both libraries, float32:

- MLP: 784 -> 100 ReLU -> 10, softmax cross-entropy, batch 100;
- CNN: conv 5x5, 8 filters -> ReLU -> 2x2 max-pool -> dense 10, batch 64, 28x28 inputs.

PyTorch is timed only when it can be imported (it is never a dependency of nnlib). Both are
pinned to one thread. Steps of the two libraries are timed in alternating rounds so that
background load hurts both alike; the figures reported are the fastest round's mean step,
in wall-clock time and in CPU time of the process.

    python benchmarks/step_time.py [--rounds 7] [--json benchmarks/results/step_time.json]
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from nnlib.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU  # noqa: E402
from nnlib.model import Sequential  # noqa: E402
from nnlib.optim import SGD  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: only nnlib is timed then
    torch = None

LR, MOMENTUM = 0.01, 0.9


def nnlib_models(rng):
    mlp = Sequential(
        [
            Dense(784, 100, rng=rng, dtype=np.float32),
            ReLU(),
            Dense(100, 10, rng=rng, dtype=np.float32),
        ]
    )
    cnn = Sequential(
        [
            Conv2D(1, 8, 5, rng=rng, dtype=np.float32),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(8 * 12 * 12, 10, rng=rng, dtype=np.float32),
        ]
    )
    return {"mlp": mlp, "cnn": cnn}


def torch_models():
    nn = torch.nn
    mlp = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 12 * 12, 10)
    )
    return {"mlp": mlp, "cnn": cnn}


def make_batches(rng, shape, n_batches=8):
    xs = [rng.random(shape, dtype=np.float32) for _ in range(n_batches)]
    ys = [rng.integers(0, 10, size=shape[0]) for _ in range(n_batches)]
    return xs, ys


def nnlib_runner(model, xs, ys):
    opt = SGD(LR, momentum=MOMENTUM)

    def run(steps):
        for i in range(steps):
            k = i % len(xs)
            model.loss_and_grads(xs[k], ys[k])
            opt.step(model)

    return run


def torch_runner(model, xs, ys):
    xs = [torch.from_numpy(x) for x in xs]
    ys = [torch.from_numpy(y) for y in ys]
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(steps):
        for i in range(steps):
            k = i % len(xs)
            opt.zero_grad()
            loss_fn(model(xs[k]), ys[k]).backward()
            opt.step()

    return run


def time_rounds(runners, steps, rounds):
    """Alternate the runners round by round.

    Returns name -> (wall seconds per step, CPU seconds per step), one entry per round. CPU
    time (time.process_time) does not count the time the process waits for a core, so it
    is the steadier figure on a busy machine.
    """
    for run in runners.values():
        run(max(steps // 5, 5))  # warm up: allocate buffers, fill caches
    times = {name: ([], []) for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            w0, c0 = time.perf_counter(), time.process_time()
            run(steps)
            times[name][0].append((time.perf_counter() - w0) / steps)
            times[name][1].append((time.process_time() - c0) / steps)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if torch is not None:
        torch.set_num_threads(1)
        torch.manual_seed(0)
    ours = nnlib_models(rng)
    theirs = torch_models() if torch is not None else {}
    setups = {"mlp": ((100, 784), 400), "cnn": ((64, 1, 28, 28), 60)}
    results = {"python": platform.python_version(), "numpy": np.__version__}
    if torch is not None:
        results["torch"] = torch.__version__
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ", no torch"))
    for name, (shape, steps) in setups.items():
        xs, ys = make_batches(rng, shape)
        runners = {"nnlib": nnlib_runner(ours[name], xs, ys)}
        if torch is not None:
            runners["torch"] = torch_runner(theirs[name], xs, ys)
        times = time_rounds(runners, steps, args.rounds)
        row = {
            lib: {
                "best_ms": 1e3 * min(wall),
                "median_ms": 1e3 * float(np.median(wall)),
                "best_cpu_ms": 1e3 * min(cpu),
                "median_cpu_ms": 1e3 * float(np.median(cpu)),
            }
            for lib, (wall, cpu) in times.items()
        }
        line = f"{name}: nnlib {row['nnlib']['best_ms']:.3f} ms/step"
        line += f" (CPU {row['nnlib']['best_cpu_ms']:.3f})"
        if "torch" in row:
            ratio = row["nnlib"]["best_ms"] / row["torch"]["best_ms"]
            cpu_ratio = row["nnlib"]["best_cpu_ms"] / row["torch"]["best_cpu_ms"]
            row["ratio_nnlib_over_torch"] = ratio
            row["cpu_ratio_nnlib_over_torch"] = cpu_ratio
            line += f", torch {row['torch']['best_ms']:.3f} ms/step"
            line += f" (CPU {row['torch']['best_cpu_ms']:.3f}); nnlib/torch {ratio:.2f}"
            line += f" (CPU {cpu_ratio:.2f})"
        print(line, flush=True)
        results[name] = row
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
