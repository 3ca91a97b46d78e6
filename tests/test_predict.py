"""`python -m jaxnets predict`: your own digits, as PNG, photographed, hand-made, or .npy."""

import jax
import numpy as np
import pytest
from helpers import small
from PIL import Image, ImageDraw, ImageFilter

import jaxnets as jn
from jaxnets.cli import main
from jaxnets.data import DataError, load_digit, to_mnist
from jaxnets.runs import save_params


@pytest.fixture(scope="module")
def run(tmp_path_factory, mnist):
  """A run's folder holding a [784, 30, 10] network trained 3 epochs on 10,000 images."""
  folder = tmp_path_factory.mktemp("run")
  params, _ = jn.fit(
    jn.init_params(jax.random.key(0), [784, 30, 10]), small(mnist, 10_000), epochs=3,
    batch_size=10, key=jax.random.key(1),
  )  # fmt: skip
  save_params(folder / "params.npz", params)
  return folder, params


def as_png(x, path):
  """A digit (784,) in [0, 1] as MNIST's 28 × 28 grayscale PNG."""
  Image.fromarray(np.round(np.asarray(x).reshape(28, 28) * 255).astype(np.uint8), "L").save(path)


def photographed(x, path, rng):
  """The digit as a phone photo would show it: dark ink on light, unevenly lit paper, 10 to 17
  times larger, anywhere on a 1000 × 800 page, turned up to 10°, with noise and blur; a JPEG."""
  ink = Image.fromarray(np.round(np.asarray(x).reshape(28, 28) * 255).astype(np.uint8), "L")
  size = int(rng.integers(280, 480))
  ink = ink.resize((size, size), Image.Resampling.BICUBIC)
  ink = ink.rotate(float(rng.uniform(-10, 10)), Image.Resampling.BICUBIC)
  page = np.zeros((800, 1000))
  top, left = int(rng.integers(0, 800 - size)), int(rng.integers(0, 1000 - size))
  page[top : top + size, left : left + size] = np.asarray(ink) / 255
  yy, xx = np.mgrid[0:800, 0:1000]
  paper = 0.78 + 0.15 * xx / 1000 + 0.05 * yy / 800
  gray = paper * (1 - page) + 0.12 * page + rng.normal(0, 0.04, page.shape)
  image = Image.fromarray(np.clip(gray * 255, 0, 255).astype(np.uint8), "L")
  image = image.filter(ImageFilter.GaussianBlur(2))
  tinted = [image.point(lambda v: min(255, v + 6)), image, image.point(lambda v: max(0, v - 10))]
  Image.merge("RGB", tinted).save(path, quality=85)


def hand_made(path, digit):
  """A digit drawn with a pen, in dark blue ink on cream paper, 600 × 450."""
  image = Image.new("RGB", (600, 450), (235, 232, 225))
  pen = ImageDraw.Draw(image)
  ink = (30, 30, 60)
  if digit == 7:
    pen.line([(220, 110), (390, 110), (300, 360)], fill=ink, width=16, joint="curve")
  elif digit == 1:
    pen.line([(330, 80), (320, 380)], fill=ink, width=16)
  elif digit == 0:
    pen.ellipse([(230, 90), (380, 370)], outline=ink, width=16)
  image.save(path)


def answers(out: str) -> dict[str, int]:
  """{file: answer} from predict's lines."""
  found = {}
  for line in out.splitlines():
    if ": " in line and not line.startswith(" "):
      name, rest = line.split(": ", 1)
      found[name] = int(rest.split()[0])
  return found


def test_mnists_own_digits_keep_their_form_and_their_answers(run, mnist):
  _, params = run
  x = np.asarray(mnist.test.x[:500])
  seen = np.stack([to_mnist(xi.reshape(28, 28)).ravel() for xi in x])
  assert np.mean(np.abs(seen - x).max(1) < 1e-6) > 0.8  # most come back pixel for pixel
  np.testing.assert_array_equal(jn.predict(params, seen), jn.predict(params, x))


def test_test_digits_as_png_photographed_and_hand_made(run, mnist, tmp_path, capsys):
  folder, params = run
  rng = np.random.default_rng(0)
  files, expected = [], {}
  original = np.asarray(jn.predict(params, mnist.test.x[:12]))
  for i in range(12):
    png, jpg = tmp_path / f"test{i}.png", tmp_path / f"photo{i}.jpg"
    as_png(mnist.test.x[i], png)
    photographed(mnist.test.x[i], jpg, rng)
    files += [str(png), str(jpg)]
    expected[str(png)] = expected[str(jpg)] = int(original[i])
  for digit in (7, 1, 0):
    hand_made(tmp_path / f"hand{digit}.png", digit)
    files.append(str(tmp_path / f"hand{digit}.png"))
    expected[files[-1]] = digit
  assert main(["predict", str(folder), *files]) == 0
  got = answers(capsys.readouterr().out)
  assert set(got) == set(files)
  pngs = [f for f in files if f.endswith(".png") and "test" in f]
  photos = [f for f in files if f.endswith(".jpg")]
  assert all(got[f] == expected[f] for f in pngs)  # the network's own answers, all 12
  assert sum(got[f] == expected[f] for f in photos) >= 11  # photographed: (nearly) all
  assert [got[str(tmp_path / f"hand{d}.png")] for d in (7, 1, 0)] == [7, 1, 0]


def test_the_line_the_picture_and_the_saved_image(run, mnist, tmp_path, capsys):
  folder, params = run
  png = tmp_path / "seven.png"
  as_png(mnist.test.x[0], png)
  seen = tmp_path / "seen"
  seen.mkdir()
  assert (
    main(["predict", str(folder / "params.npz"), str(png), "--show", "--save-seen", str(seen)]) == 0
  )
  out = capsys.readouterr().out.splitlines()
  outputs = np.asarray(jn.feedforward(params, load_digit(png)))
  assert out[0] == f"{png}: {outputs.argmax()}   " + "  ".join(
    f"{d} {a:.3f}" for d, a in enumerate(outputs)
  )
  picture = out[1:29]
  assert all(line.startswith("  |") for line in picture)
  assert sum("@@" in line for line in picture) >= 10  # the 7's strokes
  assert sum(line.rstrip().endswith(f"{a:.3f}") for line, a in zip(picture[9:], outputs)) == 10
  saved = np.asarray(Image.open(seen / "seven.png"))
  assert saved.shape == (28, 28)
  np.testing.assert_array_equal(saved, np.round(np.asarray(mnist.test.x[0]).reshape(28, 28) * 255))


def test_npy_arrays_are_taken_as_they_are(run, mnist, tmp_path, capsys):
  folder, params = run
  x = np.asarray(mnist.test.x[3])
  np.save(tmp_path / "flat.npy", x)
  np.save(tmp_path / "square.npy", np.round(x * 255).astype(np.uint8).reshape(28, 28))
  assert (
    main(["predict", str(folder), str(tmp_path / "flat.npy"), str(tmp_path / "square.npy")]) == 0
  )
  got = answers(capsys.readouterr().out)
  assert set(got.values()) == {int(jn.predict(params, x))}
  np.testing.assert_array_equal(load_digit(tmp_path / "square.npy"), x)


def test_bad_files_get_one_line_each_and_the_rest_an_answer(run, mnist, tmp_path, capsys):
  folder, _ = run
  (tmp_path / "notes.txt").write_text("a seven")
  np.save(tmp_path / "wrong.npy", np.zeros((10, 10)))
  nan = np.zeros(784)
  nan[3] = np.nan
  np.save(tmp_path / "nan.npy", nan)
  Image.new("L", (100, 100), 255).save(tmp_path / "blank.png")
  as_png(mnist.test.x[0], tmp_path / "good.png")
  names = ["notes.txt", "missing.png", "wrong.npy", "nan.npy", "blank.png", "good.png"]
  assert main(["predict", str(folder), *(str(tmp_path / n) for n in names)]) == 2
  out, err = capsys.readouterr()
  p = {n: str(tmp_path / n) for n in names}
  assert err.splitlines() == [
    f"error: {p['notes.txt']!r} can't be read as an image (cannot identify image file "
    f"{p['notes.txt']!r}); expected a PNG or JPEG",
    f"error: image {p['missing.png']!r} does not exist",
    f"error: {p['wrong.npy']!r} holds float64 of shape (10, 10); expected numbers of shape "
    "(784,) or (28, 28)",
    f"error: {p['nan.npy']!r} holds NaN or infinite values; expected finite numbers",
    f"error: {p['blank.png']!r} has no digit on it: its levels span 0.00..0.00 only",
  ]
  assert list(answers(out)) == [p["good.png"]]


def test_a_network_that_cant_be_had(tmp_path, capsys):
  params = jn.init_population(jax.random.split(jax.random.key(0), 2), [784, 10])
  save_params(tmp_path / "pop.npz", params)
  assert main(["predict", str(tmp_path / "pop.npz"), "x.png"]) == 2
  assert "holds a population of 2 networks; expected one network" in capsys.readouterr().err
  assert main(["predict", str(tmp_path), "x.png"]) == 2
  assert capsys.readouterr().err == (
    f"error: run folder '{tmp_path}' holds no params.npz (a run writes it when it ends); "
    "expected a finished run's folder, or a params.npz or checkpoint.npz\n"
  )
  with pytest.raises(DataError, match="the network has 10 inputs, not a square image"):
    load_digit(tmp_path / "x.png", 10)
