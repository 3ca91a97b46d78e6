import json
import os
import signal
import subprocess
import sys
import time

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import params_of

import jaxnets as jn
from jaxnets._engine import program
from jaxnets.cli import main
from jaxnets.runs import TrainConfig, load_checkpoint, run

SMALL = ["--sizes", "784", "30", "10", "--train-size", "1000", "--batch-size", "10", "--quiet"]


def test_checkpoint_holds_the_whole_state(tmp_path):
  out = tmp_path / "run"
  assert (
    main(
      [
        "train",
        *SMALL,
        "--epochs",
        "3",
        "--checkpoint-every",
        "2",
        "--optimizer",
        "momentum",
        "--out",
        str(out),
      ]
    )
    == 0
  )
  ckpt = load_checkpoint(out / "checkpoint.npz")
  assert ckpt.epoch == 3 and ckpt.config["optimizer"] == "momentum"
  assert len(ckpt.history["test_accuracy"]) == 3
  # η in the state (inject_hyperparams: its count and the learning rate), then momentum's
  # trace: one array per w and b of each layer
  count, eta, *trace = ckpt.opt_state
  assert count.shape == () and float(eta) == pytest.approx(ckpt.config["eta"])
  assert [a.shape for a in trace] == [a.shape for a in jax.tree.leaves(ckpt.params)]
  chex.assert_trees_all_equal(ckpt.params, params_of(out))
  _, shuffle_key = jax.random.split(jax.random.key(0))
  np.testing.assert_array_equal(jax.random.key_data(ckpt.key), jax.random.key_data(shuffle_key))
  assert json.loads((out / "config.json").read_text()) == ckpt.config
  metrics = json.loads((out / "metrics.json").read_text())
  assert metrics["test_accuracy"] == ckpt.history["test_accuracy"]
  assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, optimizer):
  whole, part = tmp_path / "whole", tmp_path / "part"
  eta = ["--eta", "0.01"] if optimizer == "adam" else []
  common = ["train", *SMALL, "--optimizer", optimizer, *eta]
  assert main([*common, "--epochs", "4", "--out", str(whole)]) == 0
  assert main([*common, "--epochs", "2", "--out", str(part)]) == 0
  assert main(["train", "--resume", "--epochs", "4", "--out", str(part), "--quiet"]) == 0
  chex.assert_trees_all_equal(params_of(part), params_of(whole))
  a, b = (json.loads((d / "metrics.json").read_text()) for d in (whole, part))
  assert a["test_accuracy"] == b["test_accuracy"] and len(b["test_accuracy"]) == 4


def test_resume_refuses_changed_flags_and_finished_runs(tmp_path, capsys):
  out = tmp_path / "run"
  assert main(["train", *SMALL, "--epochs", "1", "--out", str(out)]) == 0
  assert main(["train", "--resume", "--eta", "0.5", "--out", str(out)]) == 2
  assert "--eta 0.5 (the run has 3.0)" in capsys.readouterr().err
  assert main(["train", "--resume", "--out", str(out)]) == 2
  assert "already done 1 of 1 epochs; pass --epochs N" in capsys.readouterr().err
  assert main(["train", "--resume", "--out", str(tmp_path / "none")]) == 2
  assert "holds no checkpoint.npz" in capsys.readouterr().err


def test_corrupt_or_truncated_checkpoint_is_refused(tmp_path, capsys):
  out = tmp_path / "run"
  assert main(["train", *SMALL, "--epochs", "1", "--out", str(out)]) == 0
  raw = (out / "checkpoint.npz").read_bytes()
  (out / "checkpoint.npz").write_bytes(raw[: len(raw) - 100])
  assert main(["train", "--resume", "--epochs", "2", "--out", str(out)]) == 2
  err = capsys.readouterr().err
  assert "checkpoint.npz' is truncated or corrupt" in err and err.count("\n") == 1
  assert (
    main(
      ["train", *SMALL, "--init-from", str(out / "checkpoint.npz"), "--out", str(tmp_path / "b")]
    )
    == 2
  )
  assert "is truncated or corrupt" in capsys.readouterr().err
  assert not (tmp_path / "b").exists()


def test_init_from_fine_tunes_and_transfers(tmp_path, capsys):
  base = tmp_path / "base"
  assert main(["train", *SMALL, "--epochs", "1", "--out", str(base)]) == 0
  saved = params_of(base)
  same = run.initial_params(TrainConfig(init_from=str(base / "params.npz")), jax.random.key(5))
  chex.assert_trees_all_equal(same, saved)
  config = TrainConfig(sizes=(784, 30, 5), init_from=str(base / "checkpoint.npz"))
  moved = run.initial_params(config, jax.random.key(5))
  chex.assert_trees_all_equal(moved[0], saved[0])  # hidden layer kept
  assert moved[1].w.shape == (5, 30)
  renewed = run.initial_params(
    config.replace(sizes=(784, 30, 10), reinit_output=True), jax.random.key(5)
  )
  chex.assert_trees_all_equal(renewed[0], saved[0])
  assert not np.array_equal(renewed[1].w, saved[1].w)
  assert (
    main(
      [
        "train",
        *SMALL,
        "--sizes",
        "784",
        "20",
        "10",
        "--init-from",
        str(base / "params.npz"),
        "--out",
        str(tmp_path / "x"),
      ]
    )
    == 2
  )
  assert (
    "holds a network of sizes [784, 30, 10] but the run has sizes [784, 20, 10]"
    in capsys.readouterr().err
  )
  fine = tmp_path / "fine"
  assert (
    main(
      [
        "train",
        *SMALL,
        "--epochs",
        "1",
        "--init-from",
        str(base / "params.npz"),
        "--out",
        str(fine),
      ]
    )
    == 0
  )
  before = json.loads((base / "metrics.json").read_text())["test_accuracy"][-1]
  after = json.loads((fine / "metrics.json").read_text())["test_accuracy"][-1]
  assert after > before  # one more epoch from the saved network, not from scratch


def test_nan_stops_the_run_naming_the_epoch_and_keeps_the_last_checkpoint(
  tmp_path, capsys, monkeypatch
):
  epoch = program.compiled_network_epoch

  def diverge_at_epoch_2(params, opt_state, x, y, order, **kw):
    params, opt_state, metrics = epoch(params, opt_state, x, y, order, **kw)
    if diverge_at_epoch_2.calls == 2:
      params = jax.tree.map(lambda a: a * np.nan, params)
      metrics = {**metrics, "finite": jnp.asarray(False), "train_cost": jnp.asarray(jnp.nan)}
    diverge_at_epoch_2.calls += 1
    return params, opt_state, metrics

  diverge_at_epoch_2.calls = 0
  monkeypatch.setattr(program, "compiled_network_epoch", diverge_at_epoch_2)
  out = tmp_path / "run"
  assert main(["train", *SMALL, "--epochs", "4", "--out", str(out)]) == 1
  err = capsys.readouterr().err
  assert err.startswith("error: epoch 2: the training cost is nan") and err.count("\n") == 1
  assert "the last good checkpoint (after 2 epochs)" in err
  ckpt = load_checkpoint(out / "checkpoint.npz")
  assert ckpt.epoch == 2 and all(np.isfinite(a).all() for a in jax.tree.leaves(ckpt.params))
  assert not (out / "params.npz").exists()


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["--train-size", "60000"], "train_size 60000 is larger than the 50000 training examples"),
    (["--optimizer", "rmsprop"], "optimizer='rmsprop'; expected one of"),
    (["--config", "missing.toml"], "config file 'missing.toml' does not exist"),
    (["--reinit-output"], "reinit_output=true needs init_from"),
    (
      ["--dataset", "cifar"],
      "dataset 'cifar' is not the bundled 'mnist', a .csv or .npz file, an IDX folder or a TFDS "
      "dataset",
    ),
  ],
)
def test_more_bad_input_is_one_line_exit_2(tmp_path, capsys, args, message):
  code = main(["train", *args, "--out", str(tmp_path / "out")])
  err = capsys.readouterr().err
  assert code == 2 and message in err and err.count("\n") == 1
  assert not (tmp_path / "out").exists()


def test_non_finite_input_data_is_refused(tmp_path, capsys, monkeypatch):
  mnist = jn.load_mnist()
  x = np.array(mnist.validation.x)
  x[7, 100] = np.inf
  bad = mnist._replace(validation=jn.Dataset(x, mnist.validation.y))
  monkeypatch.setattr(run, "load_dataset", lambda name, data_dir=None: bad)
  assert main(["train", *SMALL, "--out", str(tmp_path / "out")]) == 2
  assert (
    "validation holds NaN or infinite values; expected finite numbers" in capsys.readouterr().err
  )


def test_wrong_data_checksum_is_refused(tmp_path, capsys, monkeypatch):
  copy = tmp_path / "mnist.npz"
  raw = bytearray(open(jn.data.mnist.bundled_mnist_path(), "rb").read())
  raw[5_000_000] ^= 0xFF  # one flipped byte in the middle of the pixels
  copy.write_bytes(bytes(raw))
  monkeypatch.setattr(jn.data.mnist, "bundled_mnist_path", lambda: str(copy))
  jn.data.mnist.load_mnist.cache_clear()
  try:
    assert main(["train", *SMALL, "--out", str(tmp_path / "out")]) == 2
  finally:
    jn.data.mnist.load_mnist.cache_clear()
  err = capsys.readouterr().err
  assert "has sha256" in err and f"expected {jn.data.mnist.MNIST_SHA256}" in err
  assert not (tmp_path / "out").exists()


def test_force_replaces_the_earlier_run_whole(tmp_path):
  out = tmp_path / "run"
  assert main(["train", *SMALL, "--epochs", "2", "--out", str(out)]) == 0
  assert (
    main(
      ["train", *SMALL, "--epochs", "1", "--checkpoint-every", "5", "--force", "--out", str(out)]
    )
    == 0
  )
  assert load_checkpoint(out / "checkpoint.npz").epoch == 1
  assert len(json.loads((out / "metrics.json").read_text())["test_accuracy"]) == 1


def test_progress_bar_on_a_terminal_lines_otherwise(capsys):
  config = TrainConfig(train_size=500, epochs=2, batch_size=50)
  run.train(config, progress="bar")
  captured = capsys.readouterr()
  assert "2/2" in captured.err and "epoch" in captured.err  # tqdm's bar
  assert captured.out.count("Epoch ") == 2  # the book's lines, above the bar
  run.train(config, progress="lines")
  captured = capsys.readouterr()
  assert captured.out.count("Epoch ") == 2 and captured.err == ""
  run.train(config, progress="quiet")
  assert capsys.readouterr() == ("", "")


# The run that is killed and resumed, and its uninterrupted reference: one list, so both are the
# same run.
KILLED_RUN = ["train", "--sizes", "784", "30", "10", "--train-size", "20000", "--epochs", "8"]


def spawn(out):
  return subprocess.Popen(
    [sys.executable, "-m", "jaxnets", *KILLED_RUN, "--out", str(out)],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
  )


def wait_for(path, proc, timeout=120):
  deadline = time.time() + timeout
  while not os.path.exists(path):
    assert proc.poll() is None, proc.communicate()
    assert time.time() < deadline
    time.sleep(0.01)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
  """The uninterrupted run that the killed and resumed ones must match bit for bit."""
  out = tmp_path_factory.mktemp("reference")
  assert main([*KILLED_RUN, "--quiet", "--out", str(out)]) == 0
  return out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_mid_run_then_resumed_ends_bit_identical(tmp_path, reference, sig):
  out = tmp_path / "run"
  proc = spawn(out)
  wait_for(out / "checkpoint.npz", proc)
  time.sleep(0.03)  # into the next epoch
  proc.send_signal(sig)
  _, err = proc.communicate(timeout=60)
  ckpt = load_checkpoint(out / "checkpoint.npz")  # the last complete checkpoint loads
  if sig == signal.SIGKILL:
    assert proc.returncode == -signal.SIGKILL
  else:
    assert proc.returncode == 128 + sig, err
    assert f"stopped by {signal.Signals(sig).name} after epoch {ckpt.epoch - 1}" in err
    assert "resume with --resume" in err
  assert 1 <= ckpt.epoch < 8
  assert main(["train", "--resume", "--out", str(out), "--quiet"]) == 0
  chex.assert_trees_all_equal(params_of(out), params_of(reference))
