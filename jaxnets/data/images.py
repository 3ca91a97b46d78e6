"""Your own digits in MNIST's form: an image file (PNG, JPEG, ...) brought to what the network saw.

MNIST's digits were made so (LeCun et al.): the writer's black-and-white digit was size-normalised
to fit a 20 × 20 box, keeping its aspect ratio (anti-aliasing gives grey levels), then centred in
28 × 28 by its centre of mass. A photo of dark ink on light paper, of any size, with the digit
anywhere on it, is brought to that form step by step (`to_mnist`):

1. grayscale in [0, 1]; a transparent background is laid on white (or on black for light ink);
2. the background is the median of the image's border: light (paper) → the image is inverted,
   so that the digit is light on dark, as in MNIST;
3. levels: the background goes to 0 and the digit's brightest ink to 1. The ink is what lies
   above a threshold t, Otsu's (the level that best splits ink from paper), at least 1/4. On a
   photo (an image over twice MNIST's size) a 3 × 3 median filter first removes specks, and
   what lies under t / 2, the paper's grain and the sensor's noise, becomes 0; an image of
   MNIST's size keeps its grey edges, so that MNIST's own digits come back as they were;
4. the digit is the connected ink whose parts are at least a tenth of the largest (specks and
   dirt elsewhere on the page are left out); the image is cropped to it, grey edges included;
5. strokes much thinner than MNIST's (about 2.6 px of 28: a fine pen on a large photo) are
   thickened, so that they survive the shrinking;
6. resized so that its longer side is 20 px (for 28 × 28), grey levels stretched to 1 at the
   brightest, and pasted into 28 × 28 so that its centre of mass lies at the centre (14, 14),
   MNIST's mean.

For a network of n_in = side² inputs other than 784, the same with side for 28 and
round(side · 20 / 28) for 20. Pillow decodes the files; scipy finds the connected parts.
"""

import math
import os

import numpy as np

from jaxnets.data.dataset import DataError

__all__ = ["load_digit", "read_image", "to_mnist"]

MNIST_STROKE = 2.6
"""The median stroke width of MNIST's digits, in pixels of 28 (2·area/perimeter of ink > 0.5)."""


def read_image(path: str | os.PathLike) -> np.ndarray:
  """An image file as grayscale floats (rows, cols) in [0, 1], 0 black, 1 white, as it looks:
  EXIF rotation applied, a transparent background laid on white (on black for light ink).

  Raises:
    DataError: a file that is missing or that Pillow can't read as an image.
  """
  from PIL import Image, ImageOps, UnidentifiedImageError

  path = os.fspath(path)
  try:
    with Image.open(path) as file:
      image = ImageOps.exif_transpose(file)
      image.load()
  except FileNotFoundError:
    raise DataError(f"image {path!r} does not exist") from None
  except (UnidentifiedImageError, OSError, ValueError) as e:
    raise DataError(f"{path!r} can't be read as an image ({e}); expected a PNG or JPEG") from None
  if image.mode in ("I", "I;16", "F"):
    gray = np.asarray(image, np.float64)
    return (gray - gray.min()) / max(gray.max() - gray.min(), 1e-12)
  if "A" in image.getbands() or "transparency" in image.info:
    rgba = np.asarray(image.convert("RGBA"), np.float64) / 255
    alpha = rgba[..., 3]
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    opaque = alpha > 0.5
    light_ink = opaque.any() and (~opaque).any() and gray[opaque].mean() > 0.5
    return gray * alpha + (0.0 if light_ink else 1.0) * (1 - alpha)
  return np.asarray(image.convert("L"), np.float64) / 255


def _otsu(values: np.ndarray) -> float:
  """Otsu's threshold of values in [0, 1]: the split that maximises the between-class variance."""
  counts, edges = np.histogram(values, bins=64, range=(0, 1))
  p = counts / max(counts.sum(), 1)
  w0 = np.cumsum(p)
  mu = np.cumsum(p * (edges[:-1] + edges[1:]) / 2)
  between = (mu[-1] * w0 - mu) ** 2 / np.maximum(w0 * (1 - w0), 1e-12)
  return float(edges[1:][np.argmax(between[:-1])]) if len(between) > 1 else 0.5


def to_mnist(gray: np.ndarray, side: int = 28, where: str = "the image") -> np.ndarray:
  """A grayscale image (0 black, 1 white), of any size, in MNIST's form (the module's steps).

  Args:
    gray: (rows, cols) floats in [0, 1], as `read_image` gives.
    side: the side of the result (28 for MNIST); the digit is fitted in round(side · 20 / 28).
    where: what the image is, for a message.

  Returns:
    (side, side) float32 in [0, 1]: the digit light (1) on dark (0), centred by its mass.

  Raises:
    DataError: an image with no digit on it (a single level, or nothing above the noise).
  """
  from PIL import Image, ImageFilter
  from scipy import ndimage

  gray = np.asarray(gray, np.float64)
  rows, cols = gray.shape
  ring = max(1, min(rows, cols) // 20)

  def border(a: np.ndarray) -> float:
    """The median of the image's outer ring: its background."""
    edges = (a[:ring], a[-ring:], a[:, :ring], a[:, -ring:])
    return float(np.median(np.concatenate([e.ravel() for e in edges])))

  ink = 1 - gray if border(gray) > 0.5 else gray.copy()  # light on dark, as MNIST
  photo = max(rows, cols) > 2 * side
  if photo:  # specks out (MNIST-sized strokes would thin)
    ink = np.asarray(Image.fromarray(ink.astype(np.float32)).filter(ImageFilter.MedianFilter(3)))
    ink = ink.astype(np.float64)
  low = border(ink)
  high = float(ink.max())
  if high - low < 0.1:
    raise DataError(f"{where} has no digit on it: its levels span {low:.2f}..{high:.2f} only")
  ink = np.clip((ink - low) / (high - low), 0, 1)
  threshold = max(0.25, _otsu(ink))
  mask = ink > threshold
  parts, n = ndimage.label(mask, structure=np.ones((3, 3)))
  if n == 0:
    raise DataError(f"{where} has no digit on it: nothing stands out of the background")
  sizes = ndimage.sum_labels(mask, parts, index=np.arange(1, n + 1))
  keep = np.isin(parts, 1 + np.flatnonzero(sizes >= 0.1 * sizes.max()))
  ink = np.where(ndimage.binary_dilation(keep, iterations=2), ink, 0)
  if photo:  # the paper's grain and the sensor's noise out
    ink[ink < threshold / 2] = 0
  r, c = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))  # its anti-aliased edge too
  ink, keep = ink[r[0] : r[-1] + 1, c[0] : c[-1] + 1], keep[r[0] : r[-1] + 1, c[0] : c[-1] + 1]
  box = max(1, round(side * 20 / 28))
  scale = box / max(ink.shape)
  perimeter = (keep & ~ndimage.binary_erosion(keep)).sum()
  stroke = 2 * keep.sum() / max(perimeter, 1)  # its width in pixels of the image
  wanted = MNIST_STROKE * side / 28 / scale
  if stroke < 0.6 * wanted:  # a fine pen on a large image: thicken it before it is shrunk
    size = 2 * round((wanted - stroke) / 2) + 1
    ink = ndimage.grey_dilation(ink, size=(size, size))
    ink = np.pad(ink, size)  # room for the thickened strokes
    r, c = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    ink = ink[r[0] : r[-1] + 1, c[0] : c[-1] + 1]
    scale = box / max(ink.shape)
  height, width = (max(1, round(n * scale)) for n in ink.shape)
  patch = np.asarray(
    Image.fromarray(ink.astype(np.float32)).resize((width, height), Image.Resampling.LANCZOS)
  ).astype(np.float64)
  patch = np.clip(patch, 0, None)
  patch = np.clip(patch / max(patch.max(), 1e-12), 0, 1)
  cy, cx = ndimage.center_of_mass(patch)
  top, left = round(side / 2 - cy), round(side / 2 - cx)
  out = np.zeros((side, side))
  t0, l0 = max(top, 0), max(left, 0)
  t1, l1 = min(top + height, side), min(left + width, side)
  out[t0:t1, l0:l1] = patch[t0 - top : t1 - top, l0 - left : l1 - left]
  return out.astype(np.float32)


def load_digit(path: str | os.PathLike, n_in: int = 784) -> np.ndarray:
  """The input (n_in,) float32 a network of n_in = side² inputs sees for a file: an image brought
  to MNIST's form (`to_mnist`), or an `.npy` of shape (n_in,) or (side, side) taken as it is
  (uint8 pixels 0..255 divided by 255, as MNIST's are).

  Raises:
    DataError: a file that can't be read, an array of another shape, non-numbers, NaN or Inf.
  """
  path = os.fspath(path)
  side = math.isqrt(n_in)
  if not path.lower().endswith(".npy"):
    if side * side != n_in:
      raise DataError(
        f"{path!r}: the network has {n_in} inputs, not a square image; expected an .npy of "
        f"shape ({n_in},)"
      )
    return to_mnist(read_image(path), side, repr(path)).ravel()
  try:
    a = np.load(path, allow_pickle=False)
  except FileNotFoundError:
    raise DataError(f"array {path!r} does not exist") from None
  except (OSError, ValueError, EOFError) as e:
    raise DataError(f"{path!r} can't be read as an .npy array (no pickle): {e}") from None
  shapes = [(n_in,)] + ([(side, side)] if side * side == n_in else [])
  if a.shape not in shapes or a.dtype.kind not in "biuf":
    raise DataError(
      f"{path!r} holds {a.dtype} of shape {a.shape}; expected numbers of shape "
      + " or ".join(map(str, shapes))
    )
  x = a.astype(np.float32).ravel() / (255 if a.dtype == np.uint8 else 1)
  if not np.isfinite(x).all():
    raise DataError(f"{path!r} holds NaN or infinite values; expected finite numbers")
  return x
