import jax
import pytest

import jaxnets as jn

# As Equinox's suite: no implicit dtype promotion (float32 + float64 is an error) and no implicit
# rank promotion (a (3,) + (2, 3) broadcast is an error), so the library never relies on either.
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(scope="session")
def mnist():
  return jn.load_mnist()


@pytest.fixture
def key():
  return jax.random.key(0)
