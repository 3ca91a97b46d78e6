"""Your own data: CSV and npz files, into the book's three splits; every bad file one line."""

import json

import chex
import jax
import numpy as np
import pytest

import jaxnets as jn
from jaxnets.cli import main
from jaxnets.data import DataError, load_csv, load_npz


def mnist_rows(mnist, n_train: int, n_test: int) -> tuple[np.ndarray, np.ndarray]:
  """MNIST's first n_train training and n_test test images as Kaggle's CSV holds them: pixels
  0..255 (uint8) and labels."""
  x = np.concatenate([mnist.train.x[:n_train], mnist.test.x[:n_test]])
  y = np.concatenate([mnist.train.y[:n_train], mnist.test.y[:n_test]])
  return np.round(x * 255).astype(np.uint8), y


def write_kaggle_csv(path, pixels, labels, header=True):
  """Kaggle's MNIST CSV: "label,pixel0,...,pixel783", then one image a line, its label first."""
  lines = ["label," + ",".join(f"pixel{i}" for i in range(pixels.shape[1]))] if header else []
  lines += [f"{y}," + ",".join(map(str, row)) for y, row in zip(labels, pixels.tolist())]
  path.write_text("\n".join(lines) + "\n")


def test_a_kaggle_csv_gives_mnists_arrays_and_trains_to_the_same_numbers(tmp_path, mnist):
  # 6,000 training then 1,200 test images: the last sixth (1,200) is the test set, the last
  # sixth of the rest (1,000) the validation set, as load_mnist splits MNIST's 60,000.
  pixels, labels = mnist_rows(mnist, 6000, 1200)
  csv = tmp_path / "train.csv"
  write_kaggle_csv(csv, pixels, labels)
  splits = jn.load_dataset(str(csv), scale=255)
  expected = (
    (mnist.train.x[:5000], mnist.train.y[:5000]),
    (mnist.train.x[5000:6000], mnist.train.y[5000:6000]),
    (mnist.test.x[:1200], mnist.test.y[:1200]),
  )
  for got, (x, y) in zip(splits, expected):
    np.testing.assert_array_equal(got.x, x)  # bit for bit: k / 255 in float32, as MNIST's
    np.testing.assert_array_equal(got.y, y)
    assert got.x.dtype == np.float32 and got.y.dtype == np.int32 and not got.x.flags.writeable
  out = tmp_path / "run"
  args = ["--epochs", "2", "--batch-size", "10", "--seed", "3", "--quiet", "--out", str(out)]
  assert main(["train", "--dataset", str(csv), "--scale", "255", *args]) == 0
  init_key, shuffle_key = jax.random.split(jax.random.key(3))
  params, history = jn.fit(
    jn.init_params(init_key, [784, 30, 10]), expected[0], epochs=2, batch_size=10,
    key=shuffle_key, validation=expected[1], test=expected[2],
  )  # fmt: skip
  chex.assert_trees_all_equal(jn.load_params(out / "params.npz"), params)
  metrics = json.loads((out / "metrics.json").read_text())
  assert metrics["test_accuracy"] == history.test_accuracy and history.test_accuracy[-1] > 0.6
  assert json.loads((out / "config.json").read_text())["scale"] == 255.0


def test_csv_without_header_label_last_or_by_name(tmp_path, mnist):
  pixels, labels = mnist_rows(mnist, 30, 0)
  plain = tmp_path / "plain.csv"
  write_kaggle_csv(plain, pixels, labels, header=False)
  a = load_csv(plain)
  assert a.train.x.max() == 255  # as given, without a scale
  last = tmp_path / "last.csv"
  last.write_text(
    "".join(f"{','.join(map(str, r))},{y}\n" for r, y in zip(pixels.tolist(), labels))
  )
  b = load_csv(last, label_column=-1, scale=255)
  named = tmp_path / "named.csv"
  write_kaggle_csv(named, pixels, labels)
  c = load_csv(named, label_column="label", scale=255.0)
  for split in range(3):
    np.testing.assert_array_equal(a[split].x / np.float32(255), b[split].x)
    np.testing.assert_array_equal(b[split].x, c[split].x)
    np.testing.assert_array_equal(a[split].y, c[split].y)
  assert [len(d.x) for d in c] == [21, 4, 5]  # 30: test 5, then validation 25 // 6 = 4


def test_regression_targets_from_named_columns(tmp_path, capsys):
  rng = np.random.default_rng(0)
  x = rng.uniform(0, 1, (60, 3))
  y = np.stack([x.sum(1) / 3, x[:, 0] * x[:, 1]], 1)
  path = tmp_path / "regression.csv"
  rows = [f"{a:.6f},{t:.6f},{b:.6f},{u:.6f},{c:.6f}" for (a, b, c), (t, u) in zip(x, y)]
  path.write_text("a,mean,b,product,c\n" + "\n".join(rows) + "\n")
  splits = load_csv(path, targets=["mean", "product"])
  assert splits.train.x.shape == (42, 3) and splits.train.y.shape == (42, 2)  # then 8, 10
  np.testing.assert_allclose(splits.train.y, y[:42], atol=1e-6)
  np.testing.assert_allclose(splits.test.x, x[50:], atol=1e-6)
  out = tmp_path / "run"
  flags = ["--sizes", "3", "8", "2", "--targets", "mean", "4", "--epochs", "3", "--batch-size", "5"]
  assert main(["train", "--dataset", str(path), *flags, "--eta", "1", "--out", str(out)]) == 0
  said = capsys.readouterr().out
  assert "mistakes.png and confusion.png left out: the test set has regression targets" in said
  assert "weights.png left out: 3 inputs are not a square image" in said
  metrics = json.loads((out / "metrics.json").read_text())
  assert "test_accuracy" not in metrics and len(metrics["test_cost"]) == 3


def bad(tmp_path, name: str, text: str) -> str:
  path = tmp_path / name
  path.write_text(text)
  return str(path)


@pytest.mark.parametrize(
  "name, text, message",
  [
    ("empty.csv", "", "CSV file '{}' is empty; expected lines of numbers, the label first"),
    ("header.csv", "label,a,b\n", "CSV file '{}' has a header line but no lines of data; "
     "expected some"),
    ("ragged.csv", "label,a,b\n1,2,3\n0,4,5\n1,6\n", "CSV file '{}', line 4: 2 fields; expected "
     "3, as in its first line (a ragged line)"),
    ("word.csv", "label,a,b\n1,2,3\n0,4,x5\n", "CSV file '{}', line 3, column 3 ('b'): 'x5' is "
     "not a number; expected numbers only"),
    ("blank.csv", "1,2,3\n\n0,,5\n", "CSV file '{}', line 3, column 2: '' is not a number; "
     "expected numbers only"),
    ("nan.csv", "1,2,3\n0,nan,5\n", "CSV file '{}', line 2, column 2: 'nan' is not a finite "
     "number; expected numbers only"),
    ("float.csv", "label,a\n" + "1,1\n" * 4 + "2.5,3\n" + "0,0\n" * 4, "CSV file '{}', line 6, "
     "column 1 ('label'): '2.5' is not a class label; expected an integer ≥ 0 (for regression, "
     "name the target columns: targets= in Python, --targets on the command line)"),
    ("negative.csv", "1,1\n" * 7 + "-1,3\n", "CSV file '{}', line 8, column 1: '-1' is not a "
     "class label; expected an integer ≥ 0"),
    ("few.csv", "1,1\n" * 5, "CSV file '{}' has 5 examples; expected at least 7: the last "
     "sixth is the test set, the last sixth of the rest the validation set, each of at least "
     "one example"),
    ("binary.csv", "", "CSV file '{}' is not text in UTF-8 ('utf-8' codec can't decode byte 0xff "
     "in position 0: invalid start byte); expected a CSV file"),
  ],
)  # fmt: skip
def test_bad_csv_files_are_one_line_naming_line_and_column(tmp_path, name, text, message):
  path = bad(tmp_path, name, text)
  if name == "binary.csv":
    (tmp_path / name).write_bytes(b"\xff\xfe\x00\x81,1\n")
  with pytest.raises(DataError) as e:
    jn.load_dataset(path)
  assert str(e.value).startswith(message.format(path)) and "\n" not in str(e.value)


def test_labels_beyond_the_output_layer_name_their_line_on_the_command_line(tmp_path, capsys):
  path = bad(tmp_path, "labels.csv", "label,a,b,c,d\n" + "1,0,1,0,1\n" * 8 + "12,1,1,1,1\n")
  assert main(["train", "--dataset", path, "--sizes", "4", "3", "10", "--epochs", "1"]) == 2
  assert capsys.readouterr().err == (
    f"error: CSV file '{path}', line 10, column 1 ('label'): label 12 is beyond the network's 10 "
    "outputs; expected labels 0..9, or a network of at least 13 outputs\n"
  )
  assert main(["train", "--dataset", path, "--label-column", "e", "--sizes", "4", "3", "13"]) == 2
  assert "label column 'e': CSV file" in capsys.readouterr().err
  assert main(["train", "--dataset", path, "--label-column", "9", "--sizes", "4", "3", "13"]) == 2
  assert capsys.readouterr().err == (
    f"error: label column 9: CSV file '{path}' has 5 columns; expected a column number from 1 "
    "(the first) to 5, -1 (the last), or a header name\n"
  )
  assert main(["train", "--label-column", "2", "--epochs", "1"]) == 2
  assert capsys.readouterr().err == (
    "error: label_column applies to a .csv or .npz dataset; dataset='mnist' is not one\n"
  )
  assert main(["train", "--dataset", str(tmp_path / "none.csv")]) == 2
  assert "does not exist or is not a file" in capsys.readouterr().err


def test_npz_files_with_one_set_or_their_own_splits(tmp_path, mnist):
  x, y = mnist_rows(mnist, 60, 0)
  np.savez(tmp_path / "one.npz", x=x.reshape(-1, 28, 28), y=y)
  one = load_npz(tmp_path / "one.npz", scale=255)
  assert [len(d.x) for d in one] == [42, 8, 10] and one.train.x.shape[1] == 784
  np.testing.assert_array_equal(one.train.x, mnist.train.x[:42])
  np.savez(tmp_path / "own.npz", x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:],
           x_validation=x[:5], y_validation=y[:5])  # fmt: skip
  own = jn.load_dataset(str(tmp_path / "own.npz"))
  assert [len(d.x) for d in own] == [40, 5, 20] and own.test.x.max() == 255  # as given


@pytest.mark.parametrize(
  "arrays, message",
  [
    ({"a": np.ones(3)}, "holds arrays ['a']; expected x and y, or x_train, y_train, x_test and "
     "y_test"),
    ({"x": np.ones((20, 4)), "y": np.ones(20)}, ": y holds float64 of shape (20,); expected "
     "integer class labels (n,) (y.astype(int)) or real regression targets (n, n_out)"),
    ({"x": np.ones((20, 4)), "y": np.arange(20) % 12}, ": y[10] = 10: beyond the network's 10 "
     "outputs; expected labels 0..9 (or a network of at least 12 outputs)"),
    ({"x": np.where(np.arange(80).reshape(20, 4) == 9, np.nan, 1.0), "y": np.zeros(20, int)},
     ": x[2, 1] = nan; expected finite numbers"),
    ({"x": np.ones((20, 4)), "y": np.zeros(19, int)}, ": 20 x but 19 y; expected one each"),
    ({"x": np.array(["a"] * 20), "y": np.zeros(20, int)}, ": x holds <U1 of shape (20,); "
     "expected numbers of shape (n, n_in) or images (n, rows, cols)"),
  ],
)  # fmt: skip
def test_bad_npz_files_are_one_line_naming_array_and_index(tmp_path, arrays, message):
  path = tmp_path / "bad.npz"
  np.savez(path, **arrays)
  with pytest.raises(DataError) as e:
    load_npz(path, n_out=10)
  assert str(e.value) == f"npz file '{path}'" + (" " if message[0] == "h" else "") + message


def test_an_npz_of_objects_is_not_unpickled(tmp_path):
  path = tmp_path / "pickled.npz"
  np.savez(path, x=np.array([{"evil": 1}], dtype=object), y=np.zeros(1))
  with pytest.raises(DataError, match=r"can't be read as an npz of arrays \(no pickle\)"):
    load_npz(path)
