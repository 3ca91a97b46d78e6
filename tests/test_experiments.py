"""Every experiment in --quick mode: it runs, writes its JSON and PNG, and its numbers hold."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

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


def test_all_nine_experiments_exist():
  names = sorted(p.stem for p in EXPERIMENTS.glob("e[1-9]_*.py"))
  assert [n[:2] for n in names] == [f"e{i}" for i in range(1, 10)]


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


def test_e4_mnist(tmp_path):
  r = run_quick("e4_mnist", tmp_path)
  nets = r["nets"]
  assert nets["784-30-10"]["book_best_test_accuracy"] == 0.9542
  assert nets["784-100-10"]["book_best_test_accuracy"] == 0.9659
  for net in nets.values():
    assert len(net["runs"]) == r["n_seeds"]
    for run in net["runs"]:
      assert len(run["test_accuracy"]) == r["epochs"] == len(run["validation_accuracy"])
    assert net["best_test_accuracy_mean"] >= net["final_test_accuracy_mean"]
  assert nets["784-30-10"]["best_test_accuracy_mean"] > 0.7  # chance is 0.1
  assert nets["784-100-10"]["best_test_accuracy_mean"] > 0.2
  for run in nets["784-30-10"]["runs"]:
    recall = run["final_test_recall_per_digit"]
    assert len(recall) == 10 and np.mean(recall) > 0.6


def test_e5_learning_rate(tmp_path):
  r = run_quick("e5_learning_rate", tmp_path)
  final = {s["eta"]: s["final_test_accuracy"] for s in r["sweep"]}
  assert sorted(final) == [0.001, 0.01, 0.1, 1.0, 3.0, 10.0, 100.0]
  assert final[3.0] > final[0.001] + 0.3 and final[3.0] > final[100.0] + 0.3
  assert final[100.0] < 0.2  # as the book: about chance
  assert len(r["book_784_100_10_eta_0.001"]["test_accuracy"]) == r["epochs"]


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
  assert (tmp_path / "pretrained_0-4.npz").is_file() and r["loaded_equals_saved"]
  assert r["pretraining"]["test_accuracy_0_4"][-1] > 0.8  # chance is 0.2
  names = ["fine-tuned", "from scratch", "pre-trained hidden frozen", "random hidden frozen"]
  assert sorted(r["runs"]) == sorted(f"{a}, n={n}" for a in names for n in (100, 1000))
  for name, run in r["runs"].items():
    assert all(len(c) == r["fine_tuning_epochs"] for c in run["test_accuracy"])
    assert run["final_test_accuracy_mean"] > 0.3, name
  for name in ("fine-tuned", "from scratch"):
    assert r["runs"][f"{name}, n=1000"]["final_test_accuracy_mean"] > 0.7


def test_e9_batch_size(tmp_path):
  r = run_quick("e9_batch_size", tmp_path)
  assert [run["batch_size"] for run in r["runs"]] == [1, 10, 100, 1000]
  for run in r["runs"]:
    assert not run["diverged"]
    assert run["seconds"][-1] >= r["budget_seconds"]
    assert np.all(np.diff(run["seconds"]) > 0) and np.all(np.diff(run["examples"]) > 0)
    assert run["steps_per_second"] == pytest.approx(run["examples_per_second"] / run["batch_size"])
  assert r["runs"][1]["accuracy_at_budget"] > 0.5  # m = 10 learns within the budget
