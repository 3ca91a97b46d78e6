"""The book's run as `make train` runs it, timed: `python -m jaxnets train` ([784, 30, 10], η = 3.0,
mini-batch 10, 30 epochs, seed 0) from the command to its last line, several times.

Writes results/book/results.json: each run's wall seconds, the training seconds the run reports,
its best and final test accuracy, and the machine; the README's first numbers come from it.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

NAME = "book"


def command(epochs: int) -> list[str]:
  """The book's run, `make train`'s, for `epochs` epochs."""
  return (
    f"-m jaxnets train --sizes 784 30 10 --epochs {epochs} --batch-size 10 --eta 3.0 --seed 0 "
    "--quiet"
  ).split()


def main(argv=None) -> dict:
  args = common.parse_args(NAME, __doc__, argv)
  runs = []
  epochs = 2 if args.quick else 30
  for i in range(2 if args.quick else 6):
    with tempfile.TemporaryDirectory() as out:
      start = time.perf_counter()
      subprocess.run([sys.executable, *command(epochs), "--out", out], check=True, cwd=common.ROOT)
      wall = time.perf_counter() - start
      metrics = json.loads((Path(out) / "metrics.json").read_text())
    test = metrics["test_accuracy"]
    runs.append(
      {
        "wall_seconds": wall,
        "training_seconds": sum(metrics["epoch_seconds"]),
        "best_test_accuracy": max(test),
        "best_epoch": test.index(max(test)),
        "final_test_accuracy": test[-1],
        "first_run": i == 0,  # compiles, or reads the compiled program from the cache
      }
    )
    print(f"  run {i}: {wall:.2f} s wall, best {max(test):.2%}", flush=True)
  timed = [r["wall_seconds"] for r in runs[1:]]
  results = {
    "command": "python " + " ".join(command(epochs)),
    "epochs": epochs,
    "runs": runs,
    "wall_seconds_median": statistics.median(timed),
    "wall_seconds_min": min(timed),
    "wall_seconds_max": max(timed),
    "training_seconds_median": statistics.median(r["training_seconds"] for r in runs[1:]),
    "best_test_accuracy": runs[0]["best_test_accuracy"],
    "best_epoch": runs[0]["best_epoch"],
    "final_test_accuracy": runs[0]["final_test_accuracy"],
    "same_accuracy_every_run": len({r["final_test_accuracy"] for r in runs}) == 1,
  }
  rows = [[f"{r['wall_seconds']:.2f}", f"{r['best_test_accuracy']:.2%}"] for r in runs]
  common.finish(args, results, {}, ["wall s", "best test accuracy"], rows)
  return results


if __name__ == "__main__":
  main()
