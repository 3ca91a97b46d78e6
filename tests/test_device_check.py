"""The device check (`python -m jaxnets.bench.device`), so that it cannot rot before a GPU
comes: its quick run on the CPU writes every part into its JSON (checked against what the same
calls give here), a PNG and its printout; bad arguments are one line; the pieces it is built of
(the pytest output it reads, its cap on the tests, the blocks rule, its trainers) by hand."""

import json
import platform
import subprocess
import time

import chex
import jax
import numpy as np
import pytest
from helpers import REPO, run_command

import jaxnets as jn
from jaxnets._engine import blocks
from jaxnets.bench.device import suite
from jaxnets.bench.device.book import book_part
from jaxnets.bench.device.plan import Cap, Plan
from jaxnets.bench.device.speed import blocks_rule
from jaxnets.bench.device.suite import parse_pytest, run_tests
from jaxnets.bench.device.trainers import Population, TorchCompiledSteps, init_members
from jaxnets.bench.trainers import Data, shuffled_batches


def check(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
  return run_command(*args, module="jaxnets.bench.device", cwd=REPO, timeout=timeout)


def test_the_quick_check_on_the_cpu(tmp_path, mnist):
  """One run (about 30 s), its JSON checked part by part below."""
  start = time.perf_counter()
  done = check("--device", "cpu", "--quick", "--out", str(tmp_path))
  assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
  report = json.loads((tmp_path / "device-check.json").read_text())
  seconds = time.perf_counter() - start
  check_the_machine_and_the_tests(tmp_path, report, seconds)
  check_the_books_run(report, mnist)
  check_speed_and_populations(report)
  check_the_png_and_the_printout(tmp_path, done)


def check_the_machine_and_the_tests(out, report, seconds):
  assert report["device"] == "cpu" and report["quick"] and report["errors"] == {}
  assert 0 < report["wall_s"] <= seconds  # the check's own clock, within the process's
  env = report["parts"]["env"]
  assert env["python"] == platform.python_version()
  assert env["versions"]["jax"] == jax.__version__ and env["versions"]["numpy"] == np.__version__
  assert env["device"]["platform"] == "cpu" and env["device"]["memory_stats"] is None
  assert env["cuda"] == {} and env["nvidia_smi"] is None
  tests = report["parts"]["tests"]
  log = (out / tests["log"]).read_text().splitlines()
  outcomes = [line for line in log if suite.OUTCOME.match(line)]
  assert tests["ran"] and tests["returncode"] == 0 and not tests["stopped_at_cap"]
  assert tests["files"] == ["tests/test_neurons.py"]
  assert tests["counts"] == {"passed": len(outcomes)} and len(outcomes) >= 10
  assert tests["failed_tests"] == []


def check_the_books_run(report, mnist):
  book = report["parts"]["book"]
  assert book["setup"]["train_examples"] == 2000 and book["setup"]["test_examples"] == 1000
  (run,) = book["runs"]  # on the CPU the CPU's run is the only one
  assert run["label"] == "cpu" and run["epochs"] == 2 and not run["stopped_at_cap"]
  # the same run, here: the check ran `make train`'s keys and arguments
  init_key, shuffle_key = jax.random.split(jax.random.key(0))
  train = jn.Dataset(mnist.train.x[:2000], mnist.train.y[:2000])
  test = jn.Dataset(mnist.test.x[:1000], mnist.test.y[:1000])
  _, history = jn.fit(
    jn.init_params(init_key, [784, 30, 10]), train, epochs=2, batch_size=10, key=shuffle_key,
    eta=3.0, test=test,
  )  # fmt: skip
  assert run["test_accuracy"] == history.test_accuracy
  assert run["train_cost"] == pytest.approx(history.train_cost, rel=1e-6)
  assert run["final_test_accuracy"] == history.test_accuracy[-1]
  assert len(run["epoch_seconds"]) == 2 and run["seconds_per_epoch"] > 0


def check_speed_and_populations(report):
  speed = report["parts"]["speed"]
  rows = {(tuple(r["sizes"]), r["batch_size"]): r for r in speed["rows"]}
  assert set(rows) == {((784, 30, 10), 10), ((784, 30, 10), 100)}
  torch = report["parts"]["env"]["torch"] is not None
  for (_, b), row in rows.items():
    impls = [e["impl"] for e in row["entries"]]
    expected = ["jaxnets plain"] + (["jaxnets blocks"] if b == 10 else [])
    assert impls == expected + (["torch eager"] if torch else [])
    for e in row["entries"]:
      stats = e["epoch_s"]
      assert 0 < stats["min"] <= stats["median"] <= stats["max"] and len(stats["samples"]) == 2
      assert e["examples_per_s"] == pytest.approx(500 / stats["median"])
    assert row["auto_blocks"] is False  # [784, 30, 10] is below MIN_LAYER_WEIGHTS
    assert ("plain ÷ blocks" in row["ratios"]) == (b == 10)
    assert ("torch eager ÷ jaxnets" in row["ratios"]) == torch
  assert speed["torch_compile"] in ("not asked for (quick)", "no PyTorch for this device")
  rule = speed["blocks_rule"]
  assert [n["sizes"] for n in rule["nets"]] == [[784, 30, 10]]
  assert rule["current_min_layer_weights"] == blocks.MIN_LAYER_WEIGHTS
  ratio = rows[(784, 30, 10), 10]["ratios"]["plain ÷ blocks"]["median"]
  assert rule["nets"][0]["plain_over_blocks"] == ratio
  populations = report["parts"]["populations"]
  kinds = [(r["impl"], r["members"], r["shuffle"]) for r in populations["rows"]]
  assert kinds == [
    ("one network", 1, None),
    ("1 shared", 1, "shared"),
    ("4 shared", 4, "shared"),
    ("1 per-member", 1, "per-member"),
    ("4 per-member", 4, "per-member"),
  ]
  for r in populations["rows"]:
    rates = [r["members"] / s for s in r["epoch_s"]["samples"]]
    assert r["network_epochs_per_s"]["median"] == pytest.approx(float(np.median(rates)))
  fit = report["parts"]["fit"]
  assert fit["source"] == "MemAvailable" and fit["free_bytes"] > 0
  assert fit["tries"][0]["ok"] and fit["largest_members_run"] == fit["estimate_members"] <= 64


def check_the_png_and_the_printout(out, done):
  assert (out / "device-check.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  text = (out / "device-check.txt").read_text()
  assert "tests: " in text and "the check took" in text and "book (cpu): 2 epochs" in text
  assert "speed [784, 30, 10] b10: jaxnets plain" in done.stdout
  assert not [f for f in out.iterdir() if f.name.startswith(".tmp")]


@pytest.mark.parametrize(
  "args, message",
  [
    (["--device", "gpu"], "device-check: JAX sees no gpu device here"),
    (["--device", "cpu", "--parts", "tests,bogus"], "device-check: --parts bogus: expected"),
    (["--device", "cpu", "--out", "README.md"], "device-check: can't write into --out"),
  ],
)
def test_bad_arguments_are_one_line(args, message, tmp_path):
  out = [] if "--out" in args else ["--out", str(tmp_path / "out")]
  done = check(*args, *out, timeout=120)
  assert done.returncode == 2 and done.stdout == ""
  assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(message)
  assert not (tmp_path / "out").exists()  # nothing written


def test_the_books_run_on_an_accelerator_is_compared_with_the_cpus():
  """The accelerator's path of the book's part, run on the CPU: the "device" runs (JAX's default
  precision and float32) are then the CPU's own, so they match it exactly."""
  plan = Plan.for_device("cpu", quick=True)
  book = book_part(jax.devices("cpu")[0], plan, Cap(120), print, accelerator=True)
  labels = [r["label"] for r in book["runs"]]
  assert labels == ["cpu default precision", "cpu float32", "cpu"]
  reference = book["runs"][-1]
  assert "first_epoch_max_param_diff_vs_cpu" not in reference
  for run in book["runs"][:2]:
    assert run["compared_epochs"] == 2 == run["epochs"]
    assert run["first_epoch_max_param_diff_vs_cpu"] == 0.0
    assert run["test_accuracy_diff_vs_cpu"] == 0.0
    assert run["test_accuracy"] == reference["test_accuracy"]
  assert [r["precision"] for r in book["runs"]] == ["default", "float32", "default"]


def test_pytest_output_is_counted_with_or_without_its_summary():
  lines = [
    "tests/test_a.py::test_one PASSED                                [ 25%]",
    "tests/test_a.py::test_two[x y] FAILED                           [ 50%]",
    "tests/test_b.py::test_three SKIPPED (no torch)                  [ 75%]",
  ]
  cut = parse_pytest(lines)  # stopped before its summary
  assert cut["counts"] == {"passed": 1, "failed": 1, "skipped": 1} and cut["summary"] is None
  assert cut["failed_tests"] == ["tests/test_a.py::test_two[x y]"]
  whole = parse_pytest([*lines, "=========== 1 failed, 2 passed, 1 skipped, 2 errors in 3.21s ==="])
  assert whole["counts"] == {"passed": 2, "failed": 1, "skipped": 1, "error": 2}


def test_tests_without_pytest_say_so_in_one_line(tmp_path, monkeypatch):
  monkeypatch.setattr(
    suite, "RUNNER", "import sys; print('pytest is not importable here (x)'); sys.exit(99)"
  )
  result = run_tests(["tests/test_neurons.py"], "cpu", Cap(30), tmp_path / "log", print)
  assert result == {
    "ran": False,
    "reason": "pytest is not importable here (x): make device-deps, and carry .device-deps",
  }


def test_tests_stop_at_their_cap_and_keep_the_count(tmp_path, monkeypatch):
  runner = (
    "import time; print('tests/test_a.py::test_one PASSED', flush=True); "
    "print('tests/test_a.py::test_two PASSED', flush=True); time.sleep(60)"
  )
  monkeypatch.setattr(suite, "RUNNER", runner)
  start = time.perf_counter()
  result = run_tests(["tests/test_neurons.py"], "cpu", Cap(3), tmp_path / "log", print)
  assert time.perf_counter() - start < 20
  assert result["stopped_at_cap"] and result["counts"] == {"passed": 2}
  assert (tmp_path / "log").read_text().count("PASSED") == 2


def row(sizes, speedup, auto):
  return {"sizes": sizes, "batch_size": 10, "auto_blocks": auto,
          "ratios": {"plain ÷ blocks": {"median": speedup}}}  # fmt: skip


def test_blocks_rule_takes_the_smallest_network_from_which_blocks_win():
  rows = [row([784, 30, 10], 0.7, False), row([784, 100, 10], 1.2, True),
          row([784, 1024, 1024, 10], 2.5, True)]  # fmt: skip
  rule = blocks_rule(rows)
  assert rule["suggested_min_layer_weights"] == 78_400  # [784, 100, 10]'s first layer
  assert [n["auto_picked_the_faster"] for n in rule["nets"]] == [True, True, True]
  rows[1] = row([784, 100, 10], 0.9, True)  # blocks lose on the middle one: from the largest
  rule = blocks_rule(rows)
  assert rule["suggested_min_layer_weights"] == 1024 * 1024
  assert [n["auto_picked_the_faster"] for n in rule["nets"]] == [True, False, True]
  rule = blocks_rule([row([784, 1024, 1024, 10], 1.01, True)])  # within noise: no win
  assert rule["suggested_min_layer_weights"] is None


def test_population_trainer_is_init_populations_with_fixed_orders():
  keys = jax.random.split(jax.random.key(0), 3)
  chex.assert_trees_all_equal(
    init_members(3, [784, 16, 10]), jn.init_population(keys, [784, 16, 10])
  )
  data = Data.load(jax.devices("cpu")[0], 100)
  for shared in (True, False):
    population = Population(data, (784, 16, 10), 10, 3, shared=shared)
    population.prepare(40)
    order = np.asarray(population.order(0))
    assert order.shape == ((40,) if shared else (3, 40))
    np.testing.assert_array_equal(order, np.asarray(population.order(5)))  # one order a size
    rows = order.reshape(-1, 40)
    assert all(len(set(r)) == 40 and r.max() < 100 for r in rows)
    assert shared or len({tuple(r) for r in rows}) == 3  # each member its own mini-batches
    population.ready()()
    assert np.asarray(population.metrics["finite"]).all()


def test_torch_compiled_step_equals_sgd_step():
  pytest.importorskip("torch")
  data = Data.load(jax.devices("cpu")[0], 200)
  steps = TorchCompiledSteps(data, (784, 30, 10), 10, backend="eager")
  assert steps.prepare(10) >= 0 and steps.prepare(10) == steps.compile_s
  steps.ready()()
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  idx = shuffled_batches(data.n, 10)[0]
  expected = jn.sgd_step(params, data.x_NxI[idx], data.y_N[idx], 3.0)
  got = [(w.detach().numpy(), b.detach().numpy()) for w, b in steps.params]
  chex.assert_trees_all_close([tuple(np.asarray(a) for a in layer) for layer in expected], got,
                              atol=2e-5, rtol=1e-5)  # fmt: skip
