import json
import subprocess
import sys

import chex
import pytest

import jaxnets as jn
from jaxnets.cli import main


def run_cli(*args, cwd=None):
  return subprocess.run(
    [sys.executable, "-m", "jaxnets", *args], capture_output=True, text=True, cwd=cwd, timeout=300
  )


def test_train_prints_the_books_lines_and_writes_its_files(tmp_path):
  out = tmp_path / "run"
  result = run_cli(
    "train",
    "--sizes",
    "784",
    "30",
    "10",
    "--epochs",
    "2",
    "--batch-size",
    "10",
    "--eta",
    "3.0",
    "--seed",
    "0",
    "--out",
    str(out),
  )
  assert result.returncode == 0, result.stderr
  lines = [l for l in result.stdout.splitlines() if l.startswith("Epoch ")]
  assert len(lines) == 2 and lines[0].startswith("Epoch 0: ") and " / 10000" in lines[0]
  metrics = json.loads((out / "metrics.json").read_text())
  assert set(metrics) >= {"validation_accuracy", "test_accuracy", "epoch_seconds", "train_cost"}
  assert len(metrics["test_accuracy"]) == 2 and metrics["test_accuracy"][1] > 0.9
  correct = int(lines[1].split()[2])
  assert correct == round(metrics["test_accuracy"][1] * 10_000)
  params = jn.load_params(out / "params.npz")
  assert jn.layer_sizes(params) == (784, 30, 10)
  mnist = jn.load_mnist()
  assert int(jn.evaluate(params, mnist.test.x, mnist.test.y)) == correct
  assert json.loads((out / "config.json").read_text())["sizes"] == [784, 30, 10]


def test_same_seed_same_params(tmp_path):
  for name in ("a", "b"):
    assert (
      main(
        [
          "train",
          "--sizes",
          "784",
          "10",
          "--epochs",
          "1",
          "--batch-size",
          "100",
          "--quiet",
          "--out",
          str(tmp_path / name),
        ]
      )
      == 0
    )
  chex.assert_trees_all_equal(
    jn.load_params(tmp_path / "a" / "params.npz"), jn.load_params(tmp_path / "b" / "params.npz")
  )


@pytest.mark.parametrize(
  ("args", "message"),
  [
    (
      ["--sizes", "785", "30", "10"],
      "training inputs have shape (50000, 784); the network [785, 30, 10] expects (n, 785): "
      "expected a network of 784 inputs",
    ),
    (["--sizes", "784"], "sizes [784] has 1 layer(s); expected at least 2"),
    (["--sizes", "784", "0", "10"], "sizes[1] = 0 in [784, 0, 10]; expected a positive integer"),
    (["--eta", "0"], "eta=0.0; expected a finite learning rate > 0"),
    (["--eta", "nan"], "eta=nan; expected a finite learning rate > 0"),
    (["--batch-size", "0"], "batch_size=0; expected an integer ≥ 1"),
    (
      ["--batch-size", "50001"],
      "batch_size=50001; expected an integer from 1 to the 50000 training examples",
    ),
    (["--epochs", "0"], "epochs=0; expected an integer ≥ 1"),
    (
      ["--sizes", "784", "30", "5"],
      "training labels span 0..9; the network [784, 30, 5] has 5 outputs: expected labels in "
      "0..4, or a network of at least 10 outputs",
    ),
  ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, args, message):
  out = tmp_path / "out"
  assert main(["train", *args, "--out", str(out)]) == 2
  err = capsys.readouterr().err
  assert err.startswith(f"error: {message}")
  assert err.count("\n") == 1 and "Traceback" not in err
  assert not (out / "params.npz").exists()


def test_out_is_a_file_or_holds_a_run(tmp_path, capsys):
  f = tmp_path / "file"
  f.write_text("keep me")
  assert main(["train", "--out", str(f)]) == 2
  assert "is a file" in capsys.readouterr().err and f.read_text() == "keep me"
  run = tmp_path / "run"
  run.mkdir()
  (run / "params.npz").write_bytes(b"earlier")
  assert main(["train", "--out", str(run)]) == 2
  assert (
    "holds an earlier run (params.npz); pass --resume to continue it, --force"
    in capsys.readouterr().err
  )
  assert (run / "params.npz").read_bytes() == b"earlier"


def test_import_does_not_import_tensorflow():
  code = (
    "import sys, jaxnets; print('tensorflow' in sys.modules, 'tensorflow_datasets' in sys.modules)"
  )
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
  assert result.stdout.split() == ["False", "False"], result.stderr
