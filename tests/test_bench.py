import argparse
import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn
from jaxnets._engine.memory import epoch_flops
from jaxnets._engine.program import step
from jaxnets.bench import args as bench_args
from jaxnets.bench import machine, speed, timing, variants
from jaxnets.bench import numpy_reference as reference
from jaxnets.bench import population as population_table
from jaxnets.bench.baselines import TorchSteps
from jaxnets.bench.trainers import Data, JaxEpochs, PopulationEpochs, shuffled_batches
from jaxnets.cli import main
from jaxnets.train import key_words


@pytest.fixture(scope="module")
def data():
  return Data.load(jax.devices("cpu")[0], 200)


@pytest.mark.parametrize("step", [reference.sgd_step_matrix, reference.sgd_step_loop])
def test_numpy_reference_steps_equal_sgd_step(mnist, step):
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  theirs = reference.to_numpy(params)
  for i in range(3):
    x, y = mnist.train.x[10 * i : 10 * (i + 1)], mnist.train.y[10 * i : 10 * (i + 1)]
    params = jn.sgd_step(params, x, y, 3.0)
    theirs = step(theirs, x, reference.one_hot(y, 10), 3.0)
  assert all(w.dtype == np.float32 for layer in theirs for w in layer)
  chex.assert_trees_all_close(reference.to_numpy(params), theirs, atol=2e-5, rtol=1e-5)


def test_torch_step_equals_sgd_step(data):
  pytest.importorskip("torch")
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  torch_steps = TorchSteps(data, (784, 30, 10), 10)
  torch_steps.prepare(10)
  torch_steps.ready()()
  idx = shuffled_batches(data.n, 10)[0]
  expected = jn.sgd_step(params, data.x_NxI[idx], data.y_N[idx], 3.0)
  got = [(w.detach().numpy(), b.detach().numpy()) for w, b in torch_steps.params]
  chex.assert_trees_all_close(reference.to_numpy(expected), got, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("sizes", [(784, 30, 10), (784, 100, 10), (784, 300, 100, 10)])
def test_epoch_flops_count_what_xla_counts(sizes):
  """The FLOPs the benchmark divides by: one mini-batch's (one step of 10) within 1% of XLA's own
  count of the compiled step (its cost analysis)."""
  params = jn.init_params(jax.random.key(0), list(sizes))
  x, y = jnp.ones((10, sizes[0])), jnp.ones((10, sizes[-1]))
  compiled = jax.jit(lambda p, s, x, y: step(p, s, x, y, jn.SGD, jn.quadratic_cost))
  analysis = compiled.lower(params, jn.SGD.init(params), x, y).compile().cost_analysis()
  xla = (analysis[0] if isinstance(analysis, list) else analysis)["flops"]
  assert epoch_flops(sizes, 10, 10) == pytest.approx(xla, rel=0.01)


def test_the_jaxnets_trainer_trains_as_train_epoch(data):
  trainer = JaxEpochs(data, (784, 30, 10), 10)
  trainer.prepare(100)  # the first 100 of each epoch's order
  trainer.ready()()
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  opt_state = jn.with_learning_rate(jn.SGD.init(params), 3.0)
  order = jn.epoch_order(key_words(jax.random.key(1)), 0, data.n)[:100]
  expected, _, _ = jn.train_epoch(params, opt_state, data.x_NxI, data.y_N, order, batch_size=10)
  chex.assert_trees_all_equal(trainer.params, expected)


@pytest.mark.parametrize("shared", [True, False])
def test_a_population_row_trains_as_the_library(data, shared):
  trainer = PopulationEpochs(data, (784, 30, 10), 10, 3, shared=shared)
  params, opt_state = trainer.params, trainer.opt_state
  np.testing.assert_array_equal(opt_state.hyperparams["learning_rate"], [3.0] * 3)
  trainer.prepare(100)  # the first 100 of each epoch's order
  trainer.ready()()
  keys = [jax.random.key(1)] if shared else jax.random.split(jax.random.key(1), 3)
  orders = np.stack([jn.epoch_order(k, 0, data.n)[:100] for k in keys])
  expected, _, _ = jn.train_population_epoch(
    params,
    opt_state,
    data.x_NxI,
    data.y_N,
    orders[0] if shared else orders,
    batch_size=10,
  )
  chex.assert_trees_all_equal(trainer.params, expected)
  assert bool(np.all(trainer.metrics["finite"]))
  for k in range(3):  # member k: init_params(split(key(0), 3)[k]), trained as one network
    single = jn.init_params(jax.random.split(jax.random.key(0), 3)[k], [784, 30, 10])
    chex.assert_trees_all_equal(jn.member(params, k), single)
    single, _, _ = jn.train_epoch(
      single,
      jn.with_learning_rate(jn.SGD.init(single), 3.0),
      data.x_NxI,
      data.y_N,
      orders[0 if shared else k],
      batch_size=10,
    )
    chex.assert_trees_all_close(jn.member(trainer.params, k), single, atol=1e-5)


class FakeTrainer:
  """A trainer whose trial takes `per_example_s` × its examples (on a fake clock)."""

  def __init__(self, name, per_example_s, batch_size=10, n=50_000, log=None):
    self.name, self.per_example_s, self.batch_size = name, per_example_s, batch_size
    self.epoch_examples = self.examples = n
    self.threads = "default"
    self.prepared: list[int] = []
    self.log = log if log is not None else []

  def prepare(self, examples):
    self.examples = examples
    self.prepared.append(examples)
    return 0.5

  def ready(self):
    return lambda: self.log.append(self.name)

  def limit(self):
    return timing.nothing()


@pytest.fixture
def fake_clock(monkeypatch):
  def fake_time_trial(trainer, settle_s=0.0):
    trainer.ready()()
    return trainer.examples * trainer.per_example_s

  monkeypatch.setattr(timing, "time_trial", fake_time_trial)


@pytest.mark.parametrize("guess_s", [0.1, 5.0, 500.0])
def test_plan_times_whole_epochs_when_short_and_parts_of_at_least_part_s(fake_clock, guess_s):
  short = FakeTrainer("short", 2e-5)  # 1 s an epoch
  p = timing.plan(short, guess_s, cap_s=3.0, part_s=2.0)
  assert p.whole and p.examples == 50_000 and short.examples == 50_000
  assert p.first_s == pytest.approx(1.0) and p.compile_s == 0.5
  long = FakeTrainer("long", 1e-3)  # 50 s an epoch
  p = timing.plan(long, guess_s, cap_s=3.0, part_s=2.0)
  assert not p.whole and p.examples % 10 == 0 and long.examples == p.examples
  assert 2.0 <= p.examples * 1e-3 <= 2.5 * 2.0
  assert p.first_s == pytest.approx(50.0)
  assert len(long.prepared) <= timing.MAX_PLANS


def test_interleave_alternates_the_order_of_each_round(fake_clock):
  log: list[str] = []
  a, b, c = (FakeTrainer(name, 1e-5, log=log) for name in "abc")
  seconds = timing.interleave([a, b, c], rounds=3, settle_s=0.0)
  assert "".join(log) == "abccbaabc"
  assert seconds == [[pytest.approx(0.5)] * 3] * 3


def test_pick_threads_takes_the_faster(fake_clock):
  slow, fast = FakeTrainer("x", 2e-5), FakeTrainer("x", 1e-5)
  fast.threads = 1
  best, tried = timing.pick_threads([slow, fast], probe_s=0.01, settle_s=0.0)
  assert best is fast and tried == {"default": pytest.approx(1.0), "1": pytest.approx(0.5)}


def test_stats_and_the_ratios_of_a_rounds_pairs():
  s = timing.Stats.of([3.0, 1.0, 2.0, 5.0, 4.0])
  assert (s.median, s.min, s.max, s.q1, s.q3) == (3.0, 1.0, 5.0, 2.0, 4.0)
  r = timing.ratio_stats([2.0, 4.0, 9.0], [1.0, 1.0, 3.0])
  assert (r.median, r.min, r.max) == (3.0, 2.0, 4.0)
  assert timing.format_stats(s) == "3.00 (1.00–5.00)"
  assert [timing.format_seconds(x) for x in (0.2134, 2.134, 21.34, 213.4)] == [
    "0.213",
    "2.13",
    "21.3",
    "213",
  ]


def test_cpu_info_reads_the_model_and_the_vector_extensions(tmp_path):
  cpuinfo = tmp_path / "cpuinfo"
  cpuinfo.write_text(
    "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
    "model name\t: AMD EPYC\nstepping\t: 1\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f "
    "avx512_bf16\n\nprocessor\t: 1\n"
  )
  cpu = machine.cpu_info(str(cpuinfo))
  assert (cpu["model_name"], cpu["vendor"], cpu["family"], cpu["model"]) == (
    "AMD EPYC",
    "AuthenticAMD",
    25,
    17,
  )
  assert cpu["vector_extensions"] == ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16"]
  assert "fpu" in cpu["flags"] and cpu["cores"] >= 1
  line = machine.describe_cpu(cpu)
  assert "AMD EPYC (family 25, model 17)" in line and "avx512_bf16" in line


def test_the_goals_of_both_issues():
  assert speed.target([784, 30, 10], 10, "numpy_matrix") == 2.5
  assert speed.target([784, 30, 10], 10, "torch") == 10.0
  assert speed.target([784, 100, 10], 10, "numpy_matrix") == 1.5
  assert speed.target([784, 100, 10], 10, "torch") == 1.2
  assert speed.target([784, 1024, 1024, 10], 100, "torch") == 1.0
  shared_ratio = timing.Stats.of([2.9, 3.3, 3.5]).as_dict()
  per_member_ratio = timing.Stats.of([1.4, 1.45, 1.6]).as_dict()
  row = {"impl": "population", "sizes": [784, 30, 10], "members": 32, "devices": 2}
  table = {
    "rows": [
      {**row, "shuffle": "shared", "vs_one_network": shared_ratio},
      {**row, "shuffle": "per-member", "vs_one_network": per_member_ratio},
    ]
  }
  goals = population_table.goals(table)
  assert list(goals) == [
    "32 members of [784, 30, 10] batch 10, a shared shuffle, on 2 devices, × one network",
    "32 members of [784, 30, 10] batch 10, per-member shuffles, on 2 devices, × one network",
  ]
  shared, per_member = goals.values()
  assert shared["goal"] == 3.2 and shared["met"] and shared["rounds_met"] == 2
  assert per_member["goal"] == 1.5 and not per_member["met"] and per_member["rounds_met"] == 1


def test_the_flags_choose_the_tables():
  parser = argparse.ArgumentParser()
  bench_args.add_arguments(parser)
  o = bench_args.options(parser.parse_args(["--quick", "--population-only"]))
  assert (o.speed, o.variants, o.population, o.epoch_examples) == (False, False, True, 500)
  o = bench_args.options(parser.parse_args(["--no-population", "--device", "gpu"]))
  assert (o.speed, o.variants, o.population, o.device) == (True, True, False, "gpu")
  with pytest.raises(SystemExit):
    parser.parse_args(["--population-only", "--no-population"])
  assert population_table.members_for("gpu")[-1] == 4096
  assert population_table.members_for("cpu") == (1, 8, 32, 128)


def test_quick_bench_writes_both_tables_json_and_plots(tmp_path, capsys):
  assert main(["bench", "--quick", "--out", str(tmp_path)]) == 0
  report = json.loads((tmp_path / "bench-cpu.json").read_text())
  assert (tmp_path / "bench-cpu.png").stat().st_size > 1000
  assert (tmp_path / "bench-cpu-population.png").stat().st_size > 1000
  assert report["matmul_peak_gflops"] > 0 and report["epoch_examples"] == 500
  assert report["cpu"]["model_name"] and report["cpu"]["cores"] >= 1
  assert isinstance(report["cpu"]["vector_extensions"], list) and report["cpu"]["flags"]
  assert report["versions"]["jax"] == jax.__version__ and report["versions"]["numpy"]
  assert report["timing"]["rounds"] == 3 and "interleaved" in report["timing"]["description"]
  assert report["wall_s"] > 0

  def check_stats(stats, rounds=3):
    assert len(stats["samples"]) == rounds
    assert stats["min"] <= stats["q1"] <= stats["median"] <= stats["q3"] <= stats["max"]

  impls = {r["impl"] for r in report["results"]}
  assert {"jaxnets", "numpy_matrix", "numpy_loop"} <= impls
  for r in report["results"]:
    assert r["sizes"] == [784, 30, 10] and r["batch_size"] == 10
    check_stats(r["epoch_s"])
    assert r["whole_epochs"] and r["timed_examples"] == 500
    assert r["examples_per_s"] > 0 and 0 < r["peak_fraction"]
    assert (r["compile_s"] is not None) == (r["impl"] == "jaxnets")
    assert (r["threads_tried"] is None) == (r["impl"] == "jaxnets")
  assert {r["against"] for r in report["ratios"]} == impls - {"jaxnets"}
  for r in report["ratios"]:
    check_stats(r["ratio"])
  shuffles_layouts, blocks = len(variants.variants()), len(variants.block_variants())
  assert len(report["variants"]) == shuffles_layouts + blocks  # the quick run: one case of each
  for v in report["variants"]:
    check_stats(v["epoch_s"])
    check_stats(v["vs_first"])
  assert report["variants"][0]["vs_first"]["samples"] == [1.0] * 3
  in_blocks, plain = report["variants"][shuffles_layouts:]
  assert in_blocks["variant"].endswith("(blocks=True)") and in_blocks["sizes"] == [784, 30, 10]
  assert plain["variant"] == "plain steps (blocks=False)" and plain["batch_size"] == 10

  rows = report["population"]["rows"]
  assert [(r["impl"], r["members"], r["shuffle"]) for r in rows] == [
    ("one network", 1, None),
    ("numpy_matrix", 1, None),
    ("population", 32, "shared"),
    ("population", 32, "per-member"),
  ]
  for r in rows:
    for key in ("epoch_s", "network_epochs_per_s", "vs_one_network", "vs_numpy"):
      check_stats(r[key])
    assert r["gflops"] > 0 and r["peak_fraction"] > 0
    per_network_s = r["epoch_s"]["median"] / r["members"]
    assert r["network_epochs_per_s"]["median"] == pytest.approx(1 / per_network_s)

  goals = report["goals"]
  assert goals["[784, 30, 10] batch 10 × numpy matrix"]["goal"] == 2.5
  shared = next(g for name, g in goals.items() if "32 members" in name and "shared" in name)
  assert shared["goal"] == 3.2 and isinstance(shared["met"], bool)
  out = capsys.readouterr().out
  for text in ("Seconds per epoch", "AMD" if "AMD" in report["cpu"]["model_name"] else "CPU"):
    assert text in out
  assert "the earlier design" in out and "Populations at mini-batch 10" in out
  assert "× one network" in out and "goal 32 members of [784, 30, 10] batch 10, a shared" in out


def test_the_examples_first_cost_the_bench_compares_equals_quadratic_cost(mnist):
  params = jn.init_params(jax.random.key(0), [784, 30, 10])
  x, y = mnist.train.x[:10], jax.nn.one_hot(mnist.train.y[:10], 10)
  c1, g1 = jax.value_and_grad(jn.quadratic_cost)(params, x, y)
  c2, g2 = jax.value_and_grad(variants.examples_first_quadratic_cost)(params, x, y)
  np.testing.assert_allclose(c1, c2, rtol=1e-6)
  chex.assert_trees_all_close(g1, g2, rtol=1e-4, atol=1e-7)
