"""The pictures of what a network learned, the curves, and the Recorder that writes them."""

import io
import json

import jax
import numpy as np
import pytest
from helpers import small
from PIL import Image

import jaxnets as jn
from jaxnets.runs import (
  Recorder,
  RunError,
  confusion_figure,
  confusion_matrix,
  curves_figure,
  mistakes_figure,
  weights_figure,
  write_pictures,
)


@pytest.fixture(scope="module")
def net():
  """A [784, 30, 10] network trained one epoch on 5,000 images (about 85% right)."""
  mnist = jn.load_mnist()
  params, _ = jn.fit(
    jn.init_params(jax.random.key(0), [784, 30, 10]), small(mnist, 5000), epochs=1,
    batch_size=10, key=jax.random.key(1),
  )  # fmt: skip
  return params


def pixels(fig) -> np.ndarray:
  """A figure rendered as the PNG a run writes, decoded: (rows, cols, RGB) uint8."""
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=100)
  return np.asarray(Image.open(buffer).convert("RGB"))


def test_weights_are_each_neurons_image_centred_on_zero(net):
  fig = weights_figure(net)
  image = fig.axes[0].images[0]
  mosaic = np.asarray(image.get_array())
  gap = 4  # 28 // 7
  for j in (0, 7, 29):  # 7 columns: neuron 7 starts the second row
    r, c = divmod(j, 7)
    tile = mosaic[r * (28 + gap) : r * (28 + gap) + 28, c * (28 + gap) : c * (28 + gap) + 28]
    np.testing.assert_allclose(tile, np.asarray(net[0].w[j], np.float64).reshape(28, 28))
  low, high = image.get_clim()
  assert low == -high and high == pytest.approx(np.percentile(np.abs(net[0].w), 99))
  assert image.get_cmap().name == "RdBu_r"
  rgb = pixels(fig).astype(int)
  red = np.mean(rgb[..., 0] > rgb[..., 2] + 60)
  blue = np.mean(rgb[..., 2] > rgb[..., 0] + 60)
  assert red > 0.05 and blue > 0.05 and 0.5 < red / blue < 2  # weights of both signs, as many
  assert "30 hidden neurons, 28 × 28 each" in fig.get_suptitle()


def test_inputs_that_are_not_an_image_are_refused_or_noted(tmp_path):
  params = jn.init_params(jax.random.key(0), [7, 4, 3])
  with pytest.raises(jn.InputError, match=r"inputs of 7 values are not a square image"):
    weights_figure(params)
  x, y = np.ones((6, 7), np.float32), np.array([0, 1, 2, 0, 1, 2], np.int32)
  written, notes = write_pictures(str(tmp_path), params, (x, y))
  assert written == ["confusion.png"]
  assert notes == [
    "weights.png left out: 7 inputs are not a square image",
    "mistakes.png left out: the inputs are not a square image",
  ]
  written, notes = write_pictures(str(tmp_path), params, (x, np.ones((6, 3), np.float32)))
  assert written == [] and notes[-1] == (
    "mistakes.png and confusion.png left out: the test set has regression targets, not labels"
  )
  with pytest.raises(jn.InputError, match="a population of 2 networks; expected one network"):
    weights_figure(jn.init_population(jax.random.split(jax.random.key(0), 2), [4, 2]))


def test_mistakes_are_the_first_misclassified_test_images(net):
  mnist = jn.load_mnist()
  test = jn.Dataset(mnist.test.x[:2000], mnist.test.y[:2000])
  answers = np.asarray(jn.predict(net, test.x))
  wrong = np.flatnonzero(answers != test.y)
  fig = mistakes_figure(net, test, count=16)
  assert f"The first 16 of {len(wrong)} mistakes on 2000 examples" in fig.get_suptitle()
  ax = fig.axes[0]
  titles = [t.get_text() for t in ax.texts if "→" in t.get_text()]
  assert titles == [f"{test.y[i]} → {answers[i]}" for i in wrong[:16]]
  mosaic = np.asarray(ax.images[0].get_array())
  np.testing.assert_array_equal(mosaic[:28, :28], np.asarray(test.x[wrong[0]]).reshape(28, 28))
  bars = ax.collections[0]  # one rectangle per output of each mistake: base, base, top, top
  corners = np.array([path.vertices[:4, 1] for path in bars.get_paths()])
  heights = (corners[:, 0] - corners[:, 2]).reshape(16, 10) / 14  # bar_h = 14 pixels
  outputs = np.asarray(jn.feedforward_batch(net, test.x[wrong[:16]]))
  np.testing.assert_allclose(heights, outputs, rtol=1e-5, atol=1e-5)
  colors = bars.get_facecolor()[:, :3].reshape(16, 10, 3)
  k = 0
  assert colors[k, answers[wrong[k]], 0] > 0.8 and colors[k, test.y[wrong[k]], 1] > 0.5
  gray = pixels(fig).astype(int)
  assert np.mean(gray.sum(-1) < 60) > 0.15  # the digits' black squares


def test_confusion_matrix_counts_every_answer(net):
  mnist = jn.load_mnist()
  counts = confusion_matrix(net, mnist.test)
  answers = np.asarray(jn.predict(net, mnist.test.x))
  assert counts.sum() == 10_000
  assert np.trace(counts) == int(jn.evaluate(net, mnist.test.x, mnist.test.y))
  np.testing.assert_array_equal(counts[3], np.bincount(answers[mnist.test.y == 3], minlength=10))
  fig = confusion_figure(net, mnist.test)
  correct = int(np.trace(counts))
  assert fig.get_suptitle() == f"Confusion matrix: {correct} / 10000 correct ({correct / 1e4:.2%})"
  ax = fig.axes[0]
  cells = {t.get_text() for t in ax.texts}
  assert {str(counts[i, i]) for i in range(10)} <= cells
  labels = [t.get_text() for t in ax.get_yticklabels()]
  assert labels[3] == f"3   {counts[3, 3] / counts[3].sum():6.1%}"


def test_curves_of_a_population_show_its_spread_and_only_the_sets_given():
  history = jn.PopulationHistory()
  for e in range(3):
    history.append(
      {
        "train_cost": [0.3 - 0.1 * e, 0.2, 0.4, 0.25],
        "test_cost": [0.1] * 4,
        "test_accuracy": [0.8 + e / 100, 0.9, 0.7, 0.85],
        "epoch_seconds": 1.0,
      }
    )
  fig = curves_figure(history, "four")
  cost_ax, acc_ax = fig.axes
  assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == ["test"]
  assert [t.get_text() for t in cost_ax.get_legend().get_texts()] == [
    "training (mean over the epoch)"
  ]
  median = acc_ax.lines[0].get_ydata()
  np.testing.assert_allclose(median, 100 * np.median(history.test_accuracy, axis=1))
  assert len(acc_ax.collections) == 2  # quartiles and min–max
  assert "the median of 4 networks" in fig.get_suptitle()
  one = jn.History(train_cost=[0.3, 0.2], train_accuracy=[0.8, 0.9], validation_accuracy=[0.7, 0.8])
  labels = [t.get_text() for t in curves_figure(one).axes[1].get_legend().get_texts()]
  assert labels == ["training", "validation"]


def test_recorder_refuses_another_runs_folder_and_writes_fits_settings(tmp_path, mnist, net):
  out = tmp_path / "run"
  train = small(mnist, 500)
  test = jn.Dataset(mnist.test.x[:300], mnist.test.y[:300])
  with Recorder(out, key=jax.random.key(1), progress="quiet") as rec:
    params, _ = jn.fit(net, train, epochs=2, batch_size=50, key=jax.random.key(1), eta=1.0,
                       test=test, on_epoch=rec)  # fmt: skip
    rec.finish(params, test=test)
  config = json.loads((out / "config.json").read_text())
  assert config == {
    "recorded_from": "the arguments of fit", "sizes": [784, 30, 10], "dtype": "float32",
    "epochs": 2, "start_epoch": 0, "batch_size": 50, "eta": 1.0, "optimizer": "jaxnets.SGD",
    "train_examples": 500, "test_examples": 300, "train_accuracy": False,
  }  # fmt: skip
  assert sorted(p.name for p in out.iterdir() if p.suffix == ".png") == [
    "confusion.png", "curves.png", "mistakes.png", "weights.png"
  ]  # fmt: skip
  confusion = np.asarray(Image.open(out / "confusion.png").convert("L"))
  assert confusion.shape[0] > 400 and confusion.min() < 50 and confusion.max() == 255
  with pytest.raises(RunError) as refused:
    Recorder(out, key=jax.random.key(1))
  assert str(refused.value) == (
    f"{str(out)!r} holds another run (config.json, checkpoint.npz, metrics.json, curves.png, "
    "params.npz, weights.png, mistakes.png, confusion.png); pass replace=True to replace it, "
    "resume=True to continue it, or choose another folder"
  )
  with Recorder(out, key=jax.random.key(1), config={"note": "mine"}, replace=True,
                progress="quiet") as rec:  # fmt: skip
    jn.fit(net, train, epochs=1, batch_size=50, key=jax.random.key(1), on_epoch=rec)
  assert json.loads((out / "config.json").read_text()) == {"note": "mine"}
  assert not (out / "weights.png").exists()  # the earlier run's files went with it
  with pytest.raises(jn.InputError, match=r"config=\{\}; expected a non-empty dict"):
    Recorder(tmp_path / "other", key=jax.random.key(1), config={})


def test_a_populations_pictures_are_of_its_best_member(mnist):
  keys = jax.random.split(jax.random.key(0), 3)
  params = jn.init_population(keys, [784, 10])
  rec = Recorder(None, key=keys, members=[{"seed": s} for s in range(3)])
  rec.history = jn.PopulationHistory(validation_accuracy=[[0.5, 0.6, 0.4], [0.7, 0.9, 0.8]])
  network, which = rec.best_member(params)
  np.testing.assert_array_equal(network[0].w, params[0].w[1])
  assert which == "\nmember 1 (seed 1): the best final validation accuracy of 3"
