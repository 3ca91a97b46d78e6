"""Data-parallel training over 8 CPU devices equals training on one (in a subprocess: the device
count is fixed when JAX starts)."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from helpers import ENV, REPO, small
from jax.sharding import Mesh

import jaxnets as jn
from jaxnets._engine.device import DEVICES_PER_CORE

SCRIPT = r"""
import json
import jax
import numpy as np
import optax
from jax.sharding import Mesh
import jaxnets as jn
from jaxnets._engine import program
from jaxnets.train import epoch_options

assert len(jax.devices()) == 8, jax.devices()
mnist = jn.load_mnist()
data = jn.Dataset(mnist.train.x[:410], mnist.train.y[:410])  # 10 mini-batches of 40, then 10
params = jn.init_params(jax.random.key(0), [784, 30, 10])
mesh = Mesh(np.array(jax.devices()), ("batch",))
kwargs = dict(epochs=2, batch_size=40, key=jax.random.key(1), eta=3.0, validation=data)
one, h1 = jn.fit(params, data, **kwargs)
eight, h8 = jn.fit(params, data, mesh=mesh, **kwargs)
pairs = zip(jax.tree.leaves(one), jax.tree.leaves(eight))
diff = max(float(np.max(np.abs(a - b))) for a, b in pairs)

optimizer = optax.sgd(3.0)
static = epoch_options(params, 40, optimizer, jn.quadratic_cost, mesh, "auto")
hlo = program.compiled_network_epoch.lower(
  params, optimizer.init(params), data.x, data.y, jn.epoch_order(jax.random.key(1), 0, 410),
  **static,
).compile().as_text()
try:
  jn.fit(params, data, epochs=1, batch_size=20, key=jax.random.key(1), mesh=mesh)
  error = None
except ValueError as e:
  error = str(e)
three = jn.init_population(jax.random.split(jax.random.key(4), 3), [784, 16, 10])
keys3 = jax.random.split(jax.random.key(5), 3)
two = Mesh(np.array(jax.devices()[:2]), ("members",))
spread, hs = jn.fit_population(three, data, epochs=1, batch_size=10, key=keys3, mesh=two,
                               validation=data)
alone, ha = jn.fit_population(three, data, epochs=1, batch_size=10, key=keys3, validation=data)
padded_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(jax.tree.leaves(spread),
                                                               jax.tree.leaves(alone)))
try:
  jn.fit_population(three, data, epochs=1, batch_size=10, key=keys3, mesh=mesh)
  mesh_error = None
except ValueError as e:
  mesh_error = str(e)
from jaxnets.bench.trainers import Data, PopulationEpochs
from jaxnets.bench import population as population_table
bench_data = Data.load(jax.devices()[0], 200)
timed = []
for devices in (1, 2):
  trainer = PopulationEpochs(bench_data, (784, 16, 10), 10, 4, shared=False, devices=devices)
  trainer.prepare(100)
  trainer.ready()()
  timed.append(jax.tree.map(np.asarray, trainer.params))
bench_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(*map(jax.tree.leaves, timed)))
print(json.dumps({
  "bench_diff": bench_diff,
  "bench_devices": [population_table.devices_for(m, "cpu") for m in (1, 3, 8, 32)],
  "padded_diff": padded_diff,
  "padded_shape": list(spread[0].w.shape),
  "padded_history": [hs.validation_accuracy == ha.validation_accuracy, len(hs.train_cost[0])],
  "mesh_error": mesh_error,
  "diff": diff,
  "devices": len(eight[0].w.sharding.device_set),
  "replicated": eight[0].w.sharding.is_fully_replicated,
  "all_reduce": "all-reduce" in hlo,
  "cost_diff": abs(h1.train_cost[-1] - h8.train_cost[-1]),
  "accuracy": [h1.validation_accuracy[-1], h8.validation_accuracy[-1]],
  "error": error,
}))
"""


@pytest.fixture(scope="module")
def eight_devices():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
  env.pop("JAX_NUM_CPU_DEVICES", None)
  done = subprocess.run(
    [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
  )
  assert done.returncode == 0, done.stderr[-3000:]
  return json.loads(done.stdout.strip().splitlines()[-1])


def test_eight_devices_train_as_one(eight_devices):
  assert eight_devices["diff"] <= 1e-5
  assert eight_devices["cost_diff"] <= 1e-5
  assert eight_devices["accuracy"][0] == eight_devices["accuracy"][1]


def test_the_batch_is_sharded_and_the_params_replicated(eight_devices):
  assert eight_devices["all_reduce"]  # gradients summed over the devices' shards of the batch
  assert eight_devices["devices"] == 8 and eight_devices["replicated"]


def test_a_batch_size_not_divisible_by_the_devices_is_refused(eight_devices):
  assert eight_devices["error"] == (
    "batch_size=20 can't be split evenly over 8 devices; expected a multiple of 8"
  )


def test_one_device_mesh_equals_no_mesh_exactly(mnist):
  params = jn.init_params(jax.random.key(0), [784, 10])
  kwargs = dict(epochs=1, batch_size=10, key=jax.random.key(1))
  plain, _ = jn.fit(params, small(mnist, 100), **kwargs)
  meshed, _ = jn.fit(
    params, small(mnist, 100), mesh=Mesh(np.array(jax.devices()[:1]), ("batch",)), **kwargs
  )
  for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(meshed)):
    assert (a == b).all()
  with pytest.raises(
    jn.InputError,
    match=r"^mesh has axes \('data',\); expected one axis named "
    r"'batch'",
  ):
    jn.fit(params, small(mnist, 100), mesh=Mesh(np.array(jax.devices()[:1]), ("data",)), **kwargs)


def test_a_population_that_does_not_divide_the_devices_is_padded_unseen(eight_devices):
  """3 members over 2 devices: padded to 4, trained, the copy dropped: the members and their
  metrics equal the population's on one device, bit for bit."""
  assert eight_devices["padded_diff"] == 0.0
  assert eight_devices["padded_shape"] == [3, 16, 784]
  assert eight_devices["padded_history"] == [True, 3]
  assert eight_devices["mesh_error"].startswith(
    "mesh has axes ('batch',); expected a jax.sharding.Mesh with one axis named 'members'"
  )


def test_the_bench_spreads_a_population_as_the_command_line_does(eight_devices):
  """`PopulationEpochs(devices=2)` trains what one device trains; `devices_for` spreads M members
  over `DEVICES_PER_CORE` devices per usable core (of the 8 that exist), the most that divide M."""
  assert eight_devices["bench_diff"] == 0.0
  most = min(DEVICES_PER_CORE * len(os.sched_getaffinity(0)), 8)
  assert eight_devices["bench_devices"] == [
    max(d for d in range(1, most + 1) if m % d == 0) for m in (1, 3, 8, 32)
  ]


@pytest.mark.parametrize(
  ("xla_flags", "devices"),
  [
    (None, DEVICES_PER_CORE * len(os.sched_getaffinity(0))),
    ("--xla_force_host_platform_device_count=3", 3),
  ],
)
def test_the_command_line_spreads_a_population_over_devices_per_core(tmp_path, xla_flags, devices):
  """`train --seeds` gives JAX `DEVICES_PER_CORE` CPU devices per usable core, unless XLA_FLAGS
  sets a count; the members spread over all of them (4 members over 3 devices: padded, unseen)."""
  env = {k: v for k, v in ENV.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
  if xla_flags:
    env["XLA_FLAGS"] = xla_flags
  done = subprocess.run(
    [sys.executable, "-m", "jaxnets", "train", "--sizes", "784", "8", "10", "--seeds", "0-3",
     "--train-size", "200", "--epochs", "1"],
    env=env, capture_output=True, text=True, timeout=300, cwd=REPO,
  )  # fmt: skip
  assert done.returncode == 0, done.stderr[-2000:]
  assert f"on cpu ({devices} devices)" in done.stdout.splitlines()[0]
