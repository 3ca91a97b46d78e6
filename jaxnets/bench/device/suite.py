"""The check's tests part: the suite's device-facing files run under pytest in a child process
on the device, stopped at the part's cap, and its `pytest -v` output counted."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jaxnets._files import write_atomic
from jaxnets.bench.device.plan import Cap

REPO = Path(__file__).resolve().parents[3]
"""The checkout this module runs from (its tests/ are the tests the check runs)."""

DEVICE_DEPS = ".device-deps"
"""pytest and its pure-Python dependencies, installed by `make device-deps` for a machine that
lacks them; appended to the tests' sys.path, after the machine's own packages."""

PLATFORMS = {"cpu": "cpu", "gpu": "cuda,cpu", "tpu": "tpu,cpu"}
"""JAX_PLATFORMS for the tests' child process on each device (the CPU too: some tests use it)."""

RUNNER = f"""
import os, sys
sys.path.append(os.path.join(os.getcwd(), {DEVICE_DEPS!r}))
try:
  import pytest
except ImportError as e:
  print(f"pytest is not importable here ({{e}})", flush=True)
  sys.exit(99)
print(f"pytest {{pytest.__version__}} from {{os.path.dirname(os.path.dirname(pytest.__file__))}}")
sys.exit(pytest.main(sys.argv[1:]))
"""
"""The tests' child process: pytest, from the machine's packages or .device-deps."""

NO_PYTEST = 99
OUTCOME = re.compile(r"^(tests/\S.*?::.+?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
SUMMARY = re.compile(r"^=+ (.+?) in ([0-9.]+)s")


def parse_pytest(lines: Sequence[str]) -> dict[str, Any]:
  """Counts of a `pytest -v` output: each test's outcome line, and the closing summary where
  there is one (a run stopped at its cap has none)."""
  counts: dict[str, int] = {}
  failed = []
  for line in lines:
    match = OUTCOME.match(line)
    if match:
      outcome = match.group(2).lower()
      counts[outcome] = counts.get(outcome, 0) + 1
      if outcome in ("failed", "error"):
        failed.append(match.group(1))
  summary = None
  for line in lines:
    match = SUMMARY.match(line.strip())
    if match and re.search(r"\d+ (passed|failed|error|skipped|deselected)", match.group(1)):
      summary = match.group(1)
  if summary:
    words = r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)"
    for count, word in re.findall(words, summary):
      counts[{"errors": "error", "xfailed": "xfail", "xpassed": "xpass"}.get(word, word)] = int(
        count
      )
  return {"counts": counts, "failed_tests": sorted(set(failed)), "summary": summary}


def run_tests(
  files: Sequence[str], device: str, cap: Cap, log_path: Path, say: Callable[[str], None]
) -> dict[str, Any]:
  """The test files in a child process on `device`, stopped at the cap; their counts."""
  present = [f for f in files if (REPO / f).is_file()]
  missing = sorted(set(files) - set(present))
  if not present:
    return {"ran": False, "reason": f"no test files in {REPO / 'tests'}", "missing": missing}
  env = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    "JAX_PLATFORMS": PLATFORMS[device],
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",  # this process holds JAX's share of the GPU
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
  }
  args = ["-v", "-p", "no:cacheprovider", "--durations=5", "-o", "addopts=-ra", *present]
  start = time.perf_counter()
  proc = subprocess.Popen(
    [sys.executable, "-c", RUNNER, *args],
    cwd=REPO,
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.STDOUT,
    text=True,
    start_new_session=True,
  )
  lines: list[str] = []

  def read():
    assert proc.stdout is not None
    for line in proc.stdout:
      lines.append(line.rstrip("\n"))
      if OUTCOME.match(line) and len(lines) % 25 == 0:
        say(f"tests: {sum(bool(OUTCOME.match(x)) for x in lines)} run")

  reader = threading.Thread(target=read, daemon=True)
  reader.start()
  stopped = False
  try:
    proc.wait(timeout=max(1.0, cap.left()))
  except subprocess.TimeoutExpired:
    stopped = True
    with contextlib.suppress(ProcessLookupError):
      os.killpg(proc.pid, signal.SIGTERM)
    try:
      proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
      with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
      proc.wait()
  reader.join(timeout=10)
  write_atomic(log_path, ("\n".join(lines) + "\n").encode())
  seconds = time.perf_counter() - start
  if proc.returncode == NO_PYTEST:
    reason = lines[-1] if lines else "pytest is not importable here"
    return {"ran": False, "reason": f"{reason}: make device-deps, and carry {DEVICE_DEPS}"}
  result = parse_pytest(lines)
  found = [line for line in lines[:1] if line.startswith("pytest ")]
  return {
    "ran": True,
    "pytest": found[0] if found else None,
    "files": present,
    "missing": missing,
    "returncode": proc.returncode,
    "stopped_at_cap": stopped,
    "seconds": seconds,
    "log": log_path.name,
    "durations": [line for line in lines if re.match(r"^[0-9.]+s (call|setup|teardown) ", line)],
    **result,
  }
