"""What the command line says: slips forgiven, each number named, where the results went."""

import logging
import re
import sys

import pytest
from helpers import REPO

from jaxnets.cli import main
from jaxnets.data import DataError
from jaxnets.data import tfds as datasets

SMALL = ["--train-size", "1000", "--epochs", "1", "--batch-size", "10"]


@pytest.mark.parametrize(
  "args, message",
  [
    (["--mini-batch-size", "10"], "unknown flag --mini-batch-size; did you mean --batch-size (the "
     "book's mini_batch_size, m)?"),
    (["--epcohs", "1"], "unknown flag --epcohs; did you mean --epochs?"),
    (["--lr", "3"], "unknown flag --lr; did you mean --eta (the learning rate η, the book's eta)?"),
    (["--learning-rate=0.5", "--n-epochs", "2"], "unknown flag --learning-rate; did you mean --eta "
     "(the learning rate η, the book's eta)?; unknown flag --n-epochs; did you mean --epochs?"),
    (["--colour", "red"], "unknown flag --colour"),
    (["7"], "unexpected argument(s) 7"),
  ],
)  # fmt: skip
def test_an_unknown_flag_gets_the_nearest_and_train_help(capsys, args, message):
  assert main(["train", *args]) == 2
  assert capsys.readouterr().err == (
    f"error: {message} (see python -m jaxnets train --help for its flags)\n"
  )


def test_train_help_lists_trains_flags_and_the_cache(capsys):
  assert main(["train", "--help"]) == 0
  out = " ".join(capsys.readouterr().out.split())
  for flag in ("--batch-size", "--eta", "--epochs", "--dataset", "--label-column", "--scale",
               "--train-accuracy", "--out"):  # fmt: skip
    assert f" {flag} " in out
  assert "mini-batch size m, the book's mini_batch_size" in out
  assert re.search(r"Compiled programs are cached in \S+ \(\$JAXNETS_CACHE_DIR to move it\)", out)
  assert "JAXNETS_COMPILATION_CACHE=0 turns the cache off" in out


def test_a_misspelt_command(capsys):
  assert main(["trian"]) == 2
  assert capsys.readouterr().err == (
    "error: argument command: invalid choice: 'trian' (choose from train, predict, bench); "
    "did you mean train? (see python -m jaxnets --help)\n"
  )


def test_the_epoch_line_names_its_numbers_and_the_last_line_the_folder(tmp_path, capsys):
  out = tmp_path / "run"
  assert main(["train", *SMALL, "--out", str(out)]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert lines[0] == (
    "jaxnets: [784, 30, 10], eta 3.0, seed 0, mini-batch 10, 1 epoch, sgd, float32; mnist: 1,000 "
    "training, 10,000 validation, 10,000 test examples; on cpu (1 device)"
  )
  epoch = re.fullmatch(
    r"Epoch 0: (\d+) / 10000 correct on test \(([\d.]+)%\), validation [\d.]+%, training cost "
    r"[\d.]+, [\d.]+ s",
    lines[1],
  )
  assert epoch and float(epoch[2]) == pytest.approx(int(epoch[1]) / 100)
  assert lines[2].startswith(f"best test accuracy {epoch[2]}% at epoch 0, final {epoch[2]}%")
  assert lines[-1] == (
    f"saved in {out}: config.json, checkpoint.npz, metrics.json, curves.png, params.npz, "
    "weights.png, mistakes.png, confusion.png"
  )


def test_training_accuracy_on_the_line_and_nothing_saved_said(capsys):
  assert main(["train", *SMALL, "--train-accuracy"]) == 0
  lines = capsys.readouterr().out.splitlines()
  assert re.fullmatch(
    r"Epoch 0: \d+ / 10000 correct on test \([\d.]+%\), validation [\d.]+%, training [\d.]+% "
    r"\(cost [\d.]+\), [\d.]+ s",
    lines[1],
  )
  assert lines[-1] == (
    "nothing was saved: pass --out FOLDER to keep the network, its metrics and pictures"
  )


def test_an_unprepared_tfds_dataset_says_one_line_without_absl_warnings(
  tmp_path, monkeypatch, caplog
):
  (tmp_path / "fashion_mnist" / "3.0.1").mkdir(parents=True)  # a folder left by a failed try
  monkeypatch.setattr(datasets, "unreachable", lambda hosts: "offline")
  with caplog.at_level(logging.DEBUG), pytest.raises(DataError, match="is not prepared"):
    datasets.load_tfds("fashion_mnist", str(tmp_path))
  assert not [r for r in caplog.records if r.name == "absl" and r.levelno >= logging.WARNING]


def test_a_quick_experiment_says_how_small_it_is_first(capsys, tmp_path):
  sys.path.insert(0, str(REPO / "experiments"))
  try:
    import common
  finally:
    sys.path.remove(str(REPO / "experiments"))
  args = common.parse_args("e0_demo", "demo", ["--quick", "--out", str(tmp_path)])
  common.quick_note(args, "2 epochs on 10,000 training examples", "30 epochs on all 50,000")
  common.finish(args, {}, {}, ["a"], [["1"]])
  out = capsys.readouterr().out.splitlines()
  note = (
    "quick: 2 epochs on 10,000 training examples (the full run: 30 epochs on all 50,000); a "
    "smoke test, its numbers not comparable with the book's"
  )
  assert out[0] == note and out[1].startswith(f"e0_demo ({note}), seed 0, ")
