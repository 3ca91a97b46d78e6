"""NumPy reference implementations of the book's SGD step, for checking and benchmarking.

Two ways the book's `network.py` can be written in NumPy, float32 throughout:
  - `sgd_step_loop`: the book's `update_mini_batch`, one `backprop` per example, their gradients
    summed (Nielsen's chapter 2 code);
  - `sgd_step_matrix`: the whole mini-batch as one matrix, one backprop through matrix products.
Both compute w ← w − (η/m) Σ_x ∇C_x with C_x = ½‖y(x) − a‖², the same step as `jaxnets.sgd_step`
up to float rounding (tests check it). `epoch` runs either over the shuffled mini-batches.

Parameters here are lists of NumPy pairs (w (n_out, n_in), b (n_out,)), as `to_numpy` makes them.
"""

from collections.abc import Callable, Sequence

import numpy as np

NumpyParams = list[tuple[np.ndarray, np.ndarray]]


def to_numpy(params) -> NumpyParams:
  """A jaxnets network (list of `Layer(w, b)`) as float32 NumPy (w, b) pairs."""
  return [(np.array(w, np.float32), np.array(b, np.float32)) for w, b in params]


def sigmoid(z: np.ndarray) -> np.ndarray:
  """σ(z) = 1 / (1 + e^(−z)), float32, overflow-free."""
  e = np.exp(-np.abs(z))
  return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype)


def backprop(params: NumpyParams, x_I: np.ndarray, y_O: np.ndarray) -> NumpyParams:
  """∇C_x of one example, C_x = ½‖y − a‖², by backpropagation (the book's `backprop`)."""
  activations, a = [x_I], x_I
  for w_OxI, b_O in params:
    a = sigmoid(w_OxI @ a + b_O)
    activations.append(a)
  delta = (a - y_O) * a * (1 - a)
  grads: NumpyParams = [None] * len(params)  # type: ignore[list-item]  # filled below
  for l in range(len(params) - 1, -1, -1):
    grads[l] = (np.outer(delta, activations[l]), delta)
    if l:
      a_l = activations[l]
      delta = (params[l][0].T @ delta) * a_l * (1 - a_l)
  return grads


def sgd_step_loop(params: NumpyParams, x_BxI: np.ndarray, y_BxO: np.ndarray, eta: float):
  """One SGD step the book's way: a `backprop` per example, gradients summed, then the update.

  Args:
    params: NumPy (w, b) pairs.
    x_BxI: a mini-batch of inputs.
    y_BxO: their desired outputs (one-hot).
    eta: the learning rate η.

  Returns:
    The updated parameters.
  """
  sums = [[np.zeros_like(w), np.zeros_like(b)] for w, b in params]
  for x_I, y_O in zip(x_BxI, y_BxO):
    for s, (gw, gb) in zip(sums, backprop(params, x_I, y_O)):
      s[0] += gw
      s[1] += gb
  scale = np.float32(eta / len(x_BxI))
  return [(w - scale * gw, b - scale * gb) for (w, b), (gw, gb) in zip(params, sums)]


def sgd_step_matrix(params: NumpyParams, x_BxI: np.ndarray, y_BxO: np.ndarray, eta: float):
  """One SGD step with the whole mini-batch as one matrix (rows are examples).

  Args:
    params: NumPy (w, b) pairs.
    x_BxI: a mini-batch of inputs.
    y_BxO: their desired outputs (one-hot).
    eta: the learning rate η.

  Returns:
    The updated parameters.
  """
  activations, a_BxO = [x_BxI], x_BxI
  for w_OxI, b_O in params:
    a_BxO = sigmoid(a_BxO @ w_OxI.T + b_O)
    activations.append(a_BxO)
  scale = np.float32(eta / len(x_BxI))
  delta_BxO = (a_BxO - y_BxO) * a_BxO * (1 - a_BxO)
  new: NumpyParams = [None] * len(params)  # type: ignore[list-item]  # filled below
  for l in range(len(params) - 1, -1, -1):
    w_OxI, b_O = params[l]
    new[l] = (w_OxI - scale * (delta_BxO.T @ activations[l]), b_O - scale * delta_BxO.sum(0))
    if l:
      a_BxI = activations[l]
      delta_BxO = (delta_BxO @ w_OxI) * a_BxI * (1 - a_BxI)
  return new


def one_hot(y_N: np.ndarray, n_out: int) -> np.ndarray:
  """Integer labels (n,) → float32 one-hot rows (n, n_out)."""
  return np.eye(n_out, dtype=np.float32)[y_N]


def epoch(
  step: Callable[..., NumpyParams],
  params: NumpyParams,
  x_NxI: np.ndarray,
  y_NxO: np.ndarray,
  batches: Sequence[np.ndarray],
  eta: float,
) -> NumpyParams:
  """`step` over the mini-batches of index arrays `batches`, in order."""
  for idx_B in batches:
    params = step(params, x_NxI[idx_B], y_NxO[idx_B], eta)
  return params
