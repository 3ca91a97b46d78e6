"""The device check's command line (`python -m jaxnets.bench.device`): its arguments, and `main`,
which runs the parts in order, each under its cap, writing OUT/device-check.json after each, then
the summary, device-check.png and device-check.txt (see the package's docstring)."""

import argparse
import dataclasses
import gc
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax

from jaxnets._files import write_atomic, write_json
from jaxnets.bench.device import info
from jaxnets.bench.device.book import book_part
from jaxnets.bench.device.plan import Cap, Clock, Plan, one_line, precision
from jaxnets.bench.device.populations import fit_part, populations_part
from jaxnets.bench.device.report import plot, summary_lines, tests_line
from jaxnets.bench.device.speed import speed_part
from jaxnets.bench.device.suite import PLATFORMS, run_tests
from jaxnets.bench.trainers import Data


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
    prog="python -m jaxnets.bench.device",
    description="jaxnets on a device in minutes: versions, tests, the book's run, speed against "
    "PyTorch, populations; writes OUT/device-check.json, .png and .txt.",
  )
  parser.add_argument("--device", choices=sorted(PLATFORMS), default="gpu")
  parser.add_argument("--out", default=None, help="folder (default results/device/DEVICE)")
  parser.add_argument("--quick", action="store_true", help="a run of seconds on small sizes")
  parser.add_argument(
    "--precision",
    default="float32",
    choices=["default", "float32", "tensorfloat32", "bfloat16"],
    help="JAX's matmul precision in the speed and population parts (default: float32, as "
    "PyTorch's float32 matmuls)",
  )
  parser.add_argument(
    "--parts",
    default="tests,book,speed,populations,fit",
    help="which parts to run, comma-separated (env always runs)",
  )
  return parser.parse_args(argv)


PARTS = ("tests", "book", "speed", "populations", "fit")


def main(argv: Sequence[str] | None = None, log: Callable[[str], None] = print) -> int:
  args = parse_args(argv)
  parts = [p.strip() for p in args.parts.split(",") if p.strip()]
  unknown = sorted(set(parts) - set(PARTS))
  if unknown:
    print(f"device-check: --parts {','.join(unknown)}: expected some of {','.join(PARTS)}",
          file=sys.stderr)  # fmt: skip
    return 2
  try:
    device = jax.devices(args.device)[0]
  except Exception as e:  # RuntimeError: unknown or uninitialisable backend
    have = sorted({d.platform for d in jax.devices()})
    print(
      f"device-check: JAX sees no {args.device} device here ({one_line(e)}); it has "
      f"{', '.join(have)}: pass --device {have[0]}",
      file=sys.stderr,
    )
    return 2
  out = Path(args.out or f"results/device/{args.device}")
  try:
    out.mkdir(parents=True, exist_ok=True)
    probe = out / ".device-check-probe"
    write_atomic(probe, b"")
    probe.unlink()
  except OSError as e:
    print(f"device-check: can't write into --out {str(out)!r}: {e.strerror or e}", file=sys.stderr)
    return 2
  plan = Plan.for_device(args.device, args.quick)
  clock = Clock(log)
  report: dict[str, Any] = {
    "schema": 1,
    "device": args.device,
    "quick": args.quick,
    "precision": args.precision,
    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "plan": dataclasses.asdict(plan),
    "parts": {},
    "errors": {},
    "wall_s": None,
  }
  json_path = out / "device-check.json"

  def save() -> None:
    report["wall_s"] = clock.elapsed()
    write_json(json_path, report)

  env = info.environment(device)
  report["parts"]["env"] = env
  for line in info.summary(env):
    clock.say(line)
  save()
  data = None
  torch_device = None
  if any(p in parts for p in ("speed", "populations", "fit")):
    data = Data.load(device, plan.epoch_examples)
    torch = env["torch"]
    if torch is None:
      clock.say("PyTorch is not importable here: the speed table times jaxnets alone")
    elif args.device == "cpu":
      torch_device = "cpu"
    elif args.device == "gpu" and torch["cuda_available"]:
      torch_device = "cuda"
    else:
      clock.say(f"PyTorch sees no {args.device}: the speed table times jaxnets alone")
  for name in PARTS:
    if name not in parts:
      continue
    cap = Cap(plan.caps[name])
    clock.say(f"{name}: up to {cap.seconds:.0f} s")
    try:
      if name == "tests":
        result = run_tests(plan.test_files, args.device, cap, out / "tests.log", clock.say)
        clock.say(tests_line(result))
      elif name == "book":
        result = book_part(device, plan, cap, clock.say)
      else:
        assert data is not None
        with precision(args.precision):
          if name == "speed":
            result = speed_part(device, plan, data, torch_device, cap, clock.say)
          elif name == "populations":
            result = populations_part(device, plan, data, cap, clock.say)
          else:
            result = fit_part(device, plan, data, cap, clock.say)
      result["seconds"] = result.get("seconds") or (cap.seconds - cap.left())
      report["parts"][name] = result
    except Exception as e:
      report["errors"][name] = one_line(e)
      report["parts"][name] = {"error": one_line(e), "traceback": traceback.format_exc()[-4000:]}
      clock.say(f"{name}: failed: {one_line(e)}; going on")
    gc.collect()
    save()
  report["wall_s"] = clock.elapsed()
  lines = summary_lines(report)
  for line in lines:
    log(line)
  save()
  try:
    plot(report, out / "device-check.png")
  except Exception as e:
    report["errors"]["plot"] = one_line(e)
    log(f"plot: failed: {one_line(e)}")
    save()
  text = "\n".join(clock.lines + lines) + "\n"
  write_atomic(out / "device-check.txt", text.encode())
  log(f"wrote {json_path}, {out / 'device-check.png'}, {out / 'device-check.txt'}")
  tests = report["parts"].get("tests", {})
  failed = tests.get("ran") and (
    tests.get("returncode") != 0 or tests["counts"].get("failed") or tests["counts"].get("error")
  )
  return 1 if report["errors"] or failed else 0
