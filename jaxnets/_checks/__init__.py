"""Every check of a public boundary, written once: the library and the command line share them.

A bad argument raises `InputError` (a `ValueError`) whose message names the argument, the value
and what was expected; the command line prints that message as its one line. What is checked:

- shapes and dtypes, when a function is called and again when it is traced (chex's assertions,
  reported as `InputError`): they are static, so `jax.jit` costs them nothing;
- values (labels in range, finite data, keys), only where they are concrete: under `jax.jit` a
  value is a tracer and can't be read without a device-to-host transfer, so it is not checked
  there (each function's docstring says what a bad value then does).

The dtype rules: parameters are floating point; inputs x and regression targets may be any real
numbers (bool, integers, floats: Python scalars, lists, NumPy or JAX arrays) and are converted to
the parameters' dtype; labels are integers.
"""

from jaxnets._checks.data import (
  all_finite,
  check_dataset,
  check_labels,
  check_order,
)
from jaxnets._checks.params import (
  as_array,
  check_inputs,
  check_params,
  check_population,
  float_dtype,
  is_population,
  is_traced,
  member_shapes,
  network_or_population,
)
from jaxnets._checks.values import (
  InputError,
  TrainingDiverged,
  check_batch_size,
  check_eta,
  check_int,
  check_key,
  check_keys,
  check_sizes,
  is_int,
  shape_check,
  short,
)

__all__ = [
  "InputError",
  "TrainingDiverged",
  "all_finite",
  "as_array",
  "check_batch_size",
  "check_dataset",
  "check_eta",
  "check_inputs",
  "check_int",
  "check_key",
  "check_keys",
  "check_labels",
  "check_order",
  "check_params",
  "check_population",
  "check_sizes",
  "float_dtype",
  "is_int",
  "is_population",
  "is_traced",
  "member_shapes",
  "network_or_population",
  "shape_check",
  "short",
]
