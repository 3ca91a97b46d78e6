import json

import chex
import jax
import numpy as np
import pytest

import jaxnets as jn
from jaxnets.bench import bench
from jaxnets.bench import numpy_reference as reference
from jaxnets.runs.cli import main
from jaxnets.train import targets


@pytest.mark.parametrize("step", [reference.sgd_step_matrix, reference.sgd_step_loop])
def test_numpy_reference_steps_equal_sgd_step(mnist, step):
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  theirs = reference.to_numpy(params)
  for i in range(3):
    x, y = mnist.train.x[10 * i : 10 * (i + 1)], mnist.train.y[10 * i : 10 * (i + 1)]
    params = jn.sgd_step(params, x, targets(y, 10), 3.0)
    theirs = step(theirs, x, reference.one_hot(y, 10), 3.0)
  assert all(w.dtype == np.float32 for layer in theirs for w in layer)
  chex.assert_trees_all_close(reference.to_numpy(params), theirs, atol=2e-5, rtol=1e-5)


def test_torch_step_equals_sgd_step(mnist):
  pytest.importorskip("torch")
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  step, torch_params = bench.torch_stepper((784, 30, 10), 10, "cpu", with_params=True)
  step(0)
  idx = bench.shuffled_batches(len(mnist.train.x), 10)[0]
  expected = jn.sgd_step(params, mnist.train.x[idx], targets(mnist.train.y[idx], 10), 3.0)
  got = [(w.detach().numpy(), b.detach().numpy()) for w, b in torch_params]
  chex.assert_trees_all_close(reference.to_numpy(expected), got, atol=2e-5, rtol=1e-5)


def test_epoch_flops_of_the_books_run():
  assert bench.epoch_flops((784, 30, 10), 50_000, 10) == pytest.approx(5.05e9, rel=0.01)


def test_quick_bench_writes_a_table_json_and_plot(tmp_path, capsys):
  assert main(["bench", "--quick", "--out", str(tmp_path)]) == 0
  report = json.loads((tmp_path / "bench-cpu.json").read_text())
  assert (tmp_path / "bench-cpu.png").stat().st_size > 1000
  assert report["matmul_peak_gflops"] > 0 and report["epoch_examples"] == 50_000
  for key in ("device", "device_kind", "cpu", "cpu_count", "jax_version", "goals"):
    assert key in report
  impls = {r["impl"] for r in report["results"]}
  assert {"jax", "numpy_matrix", "numpy_loop"} <= impls
  for r in report["results"]:
    assert r["sizes"] == [784, 30, 10] and r["batch_size"] in (10, 100)
    assert r["epoch_s"] > 0 and r["examples_per_s"] > 0 and 0 < r["peak_fraction"]
    assert (r["compile_s"] is not None) == (r["impl"] == "jax")
  assert "batch10_speedup_vs_numpy_matrix" in report["goals"]
  variants = report["variants"]
  assert len(variants) == len(bench.variants()) * len(bench.VARIANT_CASES)
  assert {(tuple(v["sizes"]), v["batch_size"]) for v in variants} == set(bench.VARIANT_CASES)
  assert all(v["epoch_s"] > 0 for v in variants)
  out = capsys.readouterr().out
  assert "s/epoch" in out and "1.00×" in out and "the earlier design" in out


def test_the_examples_first_cost_the_bench_compares_equals_quadratic_cost(mnist):
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  x, y = mnist.train.x[:10], jax.nn.one_hot(mnist.train.y[:10], 10)
  c1, g1 = jax.value_and_grad(jn.quadratic_cost)(params, x, y)
  c2, g2 = jax.value_and_grad(bench.examples_first_quadratic_cost)(params, x, y)
  np.testing.assert_allclose(c1, c2, rtol=1e-6)
  chex.assert_trees_all_close(g1, g2, rtol=1e-4, atol=1e-7)
