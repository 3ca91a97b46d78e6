"""Every experiment in --quick mode: it runs, writes its JSON and PNG, and its numbers hold."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import jaxnets as jn

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
sys.path.insert(0, str(EXPERIMENTS))


def run_quick(name, tmp_path):
  """Runs experiments/<name>.py --quick; returns its results.json as read back from disk."""
  module = importlib.import_module(name)
  module.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
  pngs = list(tmp_path.glob("*.png"))
  assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
  results = json.loads((tmp_path / "results.json").read_text())
  assert results["meta"]["quick"] is True and results["meta"]["seed"] == 0
  return results


def test_e1_neurons(tmp_path):
  r = run_quick("e1_neurons", tmp_path)
  assert r["inputs"] == [[0, 0], [0, 1], [1, 0], [1, 1]]
  assert r["nand"] == [1, 1, 1, 0]
  assert r["adder_sum"] == [0, 1, 1, 0] and r["adder_carry"] == [0, 0, 0, 1]
  errors = [s["sigmoid_adder_max_error"] for s in r["scales"]]
  assert all(a > b for a, b in zip(errors, errors[1:])) and errors[-1] < 1e-6
  for s in r["scales"]:
    assert s["perceptron_adder_unchanged"]
    assert s["perceptron_max_output_change"] == 1.0  # a small Δw flips the perceptron
    assert 0 < s["sigmoid_max_output_change"] <= s["sigmoid_change_bound"] * 1.001


def test_e2_architecture(tmp_path):
  r = run_quick("e2_architecture", tmp_path)
  sizes = r["sizes"]
  assert sizes == [7, 4, 3] and r["layer_sizes"] == sizes
  assert r["w_shapes"] == [[4, 7], [3, 4]] and r["b_shapes"] == [[4], [3]]
  assert r["activation_shapes"] == [[7], [4], [3]]
  assert r["batch_activation_shapes"] == [[r["batch"], n] for n in sizes]
  assert r["n_parameters"] == 4 * 7 + 4 + 3 * 4 + 3
  assert r["feedforward_matches_layer_by_layer"] and len(r["output"]) == 3


def test_e3_gradient_descent_diverges_once_eta_exceeds_1(tmp_path):
  r = run_quick("e3_gradient_descent", tmp_path)
  for s in r["sweep"]:
    assert (s["status"] == "diverges") == (s["eta"] > 1), s
    if s["eta"] < 1:
      assert s["final_distance"] < np.hypot(*r["v0"])
  for run in r["runs"]:
    assert np.hypot(*run["trajectory"][0]) == pytest.approx(np.hypot(*r["v0"]))
    if run["eta"] != 0.5:
      assert run["ratio_per_step"] == pytest.approx(run["predicted_ratio"], rel=1e-3)
    else:
      assert run["distance"][1] == 0  # η = 1/2 lands on the minimum in one step


def check_seeds(r, shuffle="per-member"):
  """An experiment over seeds: --seed 0 and on, each with its own shuffle (the default) or all
  with the first seed's (e5's default)."""
  assert r["n_seeds"] >= 2 and r["seeds"] == list(range(r["n_seeds"]))
  assert r["shuffle"] == shuffle and r["meta"]["seeds"] == r["seeds"]


def check_spread(summary, name, values):
  """`common.spread`'s mean, sd, min and max of `values`."""
  assert summary[f"{name}_mean"] == pytest.approx(np.mean(values))
  assert summary[f"{name}_sd"] == pytest.approx(np.std(values, ddof=1))
  assert (summary[f"{name}_min"], summary[f"{name}_max"]) == (min(values), max(values))


def test_e4_mnist(tmp_path, mnist):
  r = run_quick("e4_mnist", tmp_path)
  check_seeds(r)
  nets = r["nets"]
  assert nets["784-30-10"]["book_best_test_accuracy"] == 0.9542
  assert nets["784-100-10"]["book_best_test_accuracy"] == 0.9659
  for net in nets.values():
    assert [run["seed"] for run in net["runs"]] == r["seeds"]
    for run in net["runs"]:
      assert len(run["test_accuracy"]) == r["epochs"] == len(run["validation_accuracy"])
      recall = run["final_test_recall_per_digit"]
      assert len(recall) == 10 and run["dead_digits"] == [d for d in range(10) if recall[d] < 0.1]
    check_spread(net, "best_test_accuracy", [max(run["test_accuracy"]) for run in net["runs"]])
    check_spread(net, "final_test_accuracy", [run["test_accuracy"][-1] for run in net["runs"]])
    assert net["runs_with_a_dead_digit"] == sum(bool(run["dead_digits"]) for run in net["runs"])
    assert net["best_test_accuracy_mean"] >= net["final_test_accuracy_mean"]
  assert nets["784-30-10"]["best_test_accuracy_mean"] > 0.7  # chance is 0.1
  assert nets["784-100-10"]["best_test_accuracy_mean"] > 0.2
  for run in nets["784-30-10"]["runs"]:
    assert np.mean(run["final_test_recall_per_digit"]) > 0.6
  # a member of the population is exactly the single run of its seed (as `train --seed 1`)
  init_key, shuffle_key = importlib.import_module("common").seed_keys(1)
  _, history = jn.fit(
    jn.init_params(init_key, [784, 30, 10]),
    jn.Dataset(mnist.train.x[: r["n_train"]], mnist.train.y[: r["n_train"]]),
    epochs=r["epochs"],
    batch_size=10,
    eta=3.0,
    key=shuffle_key,
    test=mnist.test,
  )
  assert history.test_accuracy == nets["784-30-10"]["runs"][1]["test_accuracy"]


def test_e5_learning_rate(tmp_path):
  r = run_quick("e5_learning_rate", tmp_path)
  check_seeds(r, shuffle="shared")
  for s in [*r["sweep"], r["book_784_100_10_eta_0.001"]]:
    assert [run["seed"] for run in s["runs"]] == r["seeds"]
    assert all(len(run["test_accuracy"]) == r["epochs"] for run in s["runs"])
    check_spread(s, "final_test_accuracy", [run["test_accuracy"][-1] for run in s["runs"]])
  final = {s["eta"]: s["final_test_accuracy_mean"] for s in r["sweep"]}
  assert list(final) == [0.001, 0.01, 0.1, 1.0, 3.0, 10.0, 100.0]
  assert final[3.0] > final[0.001] + 0.3 and final[3.0] > final[100.0] + 0.3
  assert max(run["test_accuracy"][-1] for run in r["sweep"][-1]["runs"]) < 0.2  # η = 100: chance
  assert r["book_784_100_10_eta_0.001"]["sizes"] == [784, 100, 10]


def test_e6_overfitting(tmp_path):
  r = run_quick("e6_overfitting", tmp_path)
  assert r["n_train"] == 1000 and len(r["train_accuracy"]) == r["epochs"]
  assert r["final"]["train_accuracy"] > r["final"]["validation_accuracy"] + 0.05
  assert r["train_cost"][-1] < r["train_cost"][0]
  best = r["best_validation_epoch"]
  assert r["validation_accuracy"][best] == max(r["validation_accuracy"])
  assert r["test_accuracy_at_best_validation"] == r["test_accuracy"][best]
  stop = r["early_stopping"]
  assert stop["kept_epoch"] <= stop["stop_epoch"] < r["epochs"]
  assert stop["test_accuracy"] == r["test_accuracy"][stop["kept_epoch"]]


def test_e6_early_stopping_rule():
  sys.modules.pop("e6_overfitting", None)
  early_stopping = importlib.import_module("e6_overfitting").early_stopping
  assert early_stopping([0.1, 0.5, 0.4, 0.4, 0.6, 0.5, 0.5, 0.5], patience=3) == (7, 4)
  assert early_stopping([0.1, 0.5, 0.4, 0.4, 0.4, 0.6], patience=3) == (4, 1)
  assert early_stopping([0.1, 0.2], patience=3) == (1, 1)  # never stops: the last epoch


def test_e7_classification_regression(tmp_path):
  r = run_quick("e7_classification_regression", tmp_path)
  reg = r["regression"]
  assert reg["final_test_cost"] < 0.2 * reg["constant_predictor_cost"] and reg["r2"] > 0.8
  assert r["classification"]["final_test_accuracy"] > 0.8


def test_e8_transfer(tmp_path):
  r = run_quick("e8_transfer", tmp_path)
  check_seeds(r)
  n = r["n_seeds"]
  assert r["loaded_equals_saved"]
  assert jn.load_params(tmp_path / "pretrained_0-4.npz")[0].w.shape == (n, 30, 784)  # stacked
  pre = r["pretraining"]
  assert len(pre["test_accuracy_0_4"]) == n and pre["final_test_accuracy_0_4_min"] > 0.8
  names = ["fine-tuned", "from scratch", "pre-trained hidden frozen", "random hidden frozen"]
  assert sorted(r["runs"]) == sorted(f"{a}, n={m}" for a in names for m in (100, 1000))
  for name, run in r["runs"].items():
    assert len(run["test_accuracy"]) == n
    assert all(len(c) == r["fine_tuning_epochs"] for c in run["test_accuracy"])
    check_spread(run, "final_test_accuracy", [c[-1] for c in run["test_accuracy"]])
    assert run["final_test_accuracy_mean"] > 0.3, name
  for name in ("fine-tuned", "from scratch"):
    assert r["runs"][f"{name}, n=1000"]["final_test_accuracy_mean"] > 0.7
  for m in (100, 1000):
    c = r["comparisons"][f"fine-tuned vs from scratch, n={m}"]
    ours, theirs = (r["runs"][f"{a}, n={m}"]["test_accuracy"] for a in names[:2])
    gain = [a[-1] - b[-1] for a, b in zip(ours, theirs)]
    check_spread(c, "final_test_accuracy_gain", gain)
    assert c["seeds_ahead"] == sum(g > 0 for g in gain)


def test_e9_batch_size(tmp_path):
  r = run_quick("e9_batch_size", tmp_path)
  assert [run["batch_size"] for run in r["runs"]] == [1, 10, 100, 1000]
  for run in r["runs"]:
    assert not run["diverged"]
    assert run["seconds"][-1] >= r["budget_seconds"]
    assert np.all(np.diff(run["seconds"]) > 0) and np.all(np.diff(run["examples"]) > 0)
    assert run["steps_per_second"] == pytest.approx(run["examples_per_second"] / run["batch_size"])
  assert r["runs"][1]["accuracy_at_budget"] > 0.5  # m = 10 learns within the budget


def test_study_wide_net(tmp_path):
  r = run_quick("study_wide_net", tmp_path)
  check_seeds(r)
  n, epochs = r["n_seeds"], r["epochs"]
  f32, f64 = r["precisions"]["float32"], r["precisions"]["float64"]
  for p in (f32, f64):
    assert [run["seed"] for run in p["runs"]] == r["seeds"]
    best = [run["best_test_accuracy"] for run in p["runs"]]
    check_spread(p, "best_test_accuracy", best)
    assert (
      p["reach_95"] == sum(b >= 0.95 for b in best) and p["reach_95_fraction"] == p["reach_95"] / n
    )
    lo, hi = p["reach_95_wilson_95"]
    assert 0 <= lo <= p["reach_95_fraction"] <= hi <= 1
    assert sum(p["runs_by_dead_digits"].values()) == n
    for run in p["runs"]:
      assert len(run["test_accuracy"]) == epochs and max(run["test_accuracy"]) > 0.2
      assert run["best_test_accuracy"] == run["test_accuracy"][run["best_epoch"]]
      fates = run["zero_update_fraction"] + run["lost_update_fraction"]
      assert len(fates) == 2 * (epochs + 1) and all(0 <= f <= 1 for f in fates)
  # float32 loses updates of the output layer to rounding that float64 keeps
  assert all(
    a > b for a, b in zip(f32["lost_update_fraction_mean"], f64["lost_update_fraction_mean"])
  )
  paired = r["paired"]
  counts = ["both_reach_95", "only_float32_reaches_95", "only_float64_reaches_95"]
  assert sum(paired[c] for c in counts) + paired["neither_reaches_95"] == n
  assert 0 <= paired["mcnemar_exact_p"] <= 1
  # the same start and shuffles: close after 2 epochs, but not equal (the arithmetic differs)
  assert all(0 < d < 0.1 for d in paired["final_max_param_difference"])
  assert all(e is None or 0 <= e < epochs for e in paired["first_differing_epoch"])


def test_study_statistics():
  study = importlib.import_module("study_wide_net")
  assert study.mcnemar_exact(0, 0) == 1.0
  assert study.mcnemar_exact(0, 6) == pytest.approx(2 / 64)  # 6 discordant seeds, all one way
  assert study.mcnemar_exact(3, 3) == 1.0
  assert study.wilson(0, 32)[0] == 0 and study.wilson(32, 32)[1] == 1
  assert study.wilson(16, 32) == pytest.approx([0.3363, 0.6637], abs=1e-4)
