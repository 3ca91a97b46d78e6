import jax
import pytest

import jaxnets as jn


@pytest.fixture(scope="session")
def mnist():
  return jn.load_mnist()


@pytest.fixture
def key():
  return jax.random.key(0)
