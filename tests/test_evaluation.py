import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnets as jn


def identity_like_net():
  # A [3, 3] net whose output is largest at the input's largest coordinate.
  return [jn.Layer(10 * jnp.eye(3), jnp.zeros(3))]


def test_evaluate_counts_argmax_hits():
  params = identity_like_net()
  x = jnp.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 1.0, 0]])
  labels = jnp.array([0, 1, 2, 2])
  assert int(jn.evaluate(params, x, labels)) == 3
  assert float(jn.accuracy(params, x, labels)) == 0.75
  np.testing.assert_array_equal(jn.predict(params, x), [0, 1, 2, 1])
  assert int(jn.predict(params, [0, 0, 5])) == 2  # one example, from a list of ints


@pytest.mark.parametrize(
  ("labels", "message"),
  [
    (np.zeros(3, np.float32), r"^argument labels has dtype float32; expected integer class labels"),
    (np.zeros(2, np.int32), r"^argument labels has shape \(2,\) for x of shape \(3, 3\)"),
    (np.array([0, 3, 1]), r"^argument labels\[1\] = 3; expected class labels 0..2"),
    (np.array([0, 1, -1]), r"^argument labels\[2\] = -1; expected class labels 0..2"),
  ],
)
def test_bad_labels_are_named(labels, message):
  with pytest.raises(jn.InputError, match=message):
    jn.evaluate(identity_like_net(), jnp.eye(3), labels)


def test_under_jit_a_label_out_of_range_never_counts():
  count = jax.jit(jn.evaluate)(identity_like_net(), jnp.eye(3), jnp.array([0, 1, 7]))
  assert int(count) == 2


def test_accuracy_of_no_examples_is_refused():
  with pytest.raises(jn.InputError, match="holds no examples"):
    jn.accuracy(identity_like_net(), np.zeros((0, 3)), np.zeros(0, np.int32))
