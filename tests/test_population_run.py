"""Populations from the command line: `train --seeds 0-3 --eta 3 1 [--shared-shuffle]`."""

import json

import chex
import jax
import numpy as np
import pytest
from helpers import params_of

import jaxnets as jn
from jaxnets.cli import main
from jaxnets.runs import CheckpointError, run
from jaxnets.runs.config import TrainConfig
from jaxnets.runs.progress import epoch_line

SMALL = ["--sizes", "784", "16", "10", "--train-size", "500", "--batch-size", "10", "--quiet"]


def test_each_member_equals_its_single_run(tmp_path):
  """Members are seeds × etas, seeds outer; member (seed 1, η 1.0) is the run --seed 1 --eta 1."""
  pop, one = tmp_path / "pop", tmp_path / "one"
  args = [*SMALL, "--epochs", "2"]
  assert main(["train", *args, "--seeds", "0-1", "--eta", "3", "1", "--out", str(pop)]) == 0
  assert main(["train", *args, "--seed", "1", "--eta", "1", "--out", str(one)]) == 0
  params = params_of(pop)
  assert jn.population_size(params) == 4
  chex.assert_trees_all_equal(jn.member(params, 3), params_of(one))
  metrics = json.loads((pop / "metrics.json").read_text())
  assert metrics["members"] == [
    {"seed": 0, "eta": 3.0},
    {"seed": 0, "eta": 1.0},
    {"seed": 1, "eta": 3.0},
    {"seed": 1, "eta": 1.0},
  ]
  single = json.loads((one / "metrics.json").read_text())
  assert [epoch[3] for epoch in metrics["test_accuracy"]] == single["test_accuracy"]
  assert [epoch[3] for epoch in metrics["train_cost"]] == single["train_cost"]


def test_a_population_resumes_bit_identical(tmp_path):
  args = ["train", *SMALL, "--seeds", "0", "3", "7", "--shared-shuffle"]
  assert main([*args, "--epochs", "3", "--out", str(tmp_path / "whole")]) == 0
  assert main([*args, "--epochs", "1", "--out", str(tmp_path / "part")]) == 0
  assert (
    main(["train", "--resume", "--epochs", "3", "--quiet", "--out", str(tmp_path / "part")]) == 0
  )
  chex.assert_trees_all_equal(params_of(tmp_path / "part"), params_of(tmp_path / "whole"))
  whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
  assert json.loads((tmp_path / "part" / "metrics.json").read_text()) == {
    **whole,
    "epoch_seconds": json.loads((tmp_path / "part" / "metrics.json").read_text())["epoch_seconds"],
  }


def test_a_shared_shuffle_is_the_first_seeds(tmp_path):
  """With --shared-shuffle every member takes seed 0's mini-batches: member 0 is the single run
  of seed 0 up to rounding (its first layer runs batched with the others)."""
  out, one = tmp_path / "pop", tmp_path / "one"
  assert main(["train", *SMALL, "--epochs", "1", "--seeds", "0-2", "--shared-shuffle",
               "--out", str(out)]) == 0  # fmt: skip
  assert main(["train", *SMALL, "--epochs", "1", "--seed", "0", "--out", str(one)]) == 0
  chex.assert_trees_all_close(jn.member(params_of(out), 0), params_of(one), atol=1e-5)


def test_float64_runs_in_x64_for_the_run_only(tmp_path):
  out = tmp_path / "f64"
  assert main(["train", *SMALL, "--epochs", "1", "--dtype", "float64", "--out", str(out)]) == 0
  assert not jax.config.read("jax_enable_x64")  # this process is float32 again
  with pytest.raises(CheckpointError, match="holds float64 parameters but JAX's x64 mode"):
    params_of(out)
  with jax.enable_x64(True):
    params = params_of(out)
    assert all(a.dtype == np.float64 for a in jax.tree.leaves(params))
    mnist = jn.load_mnist()
    data = jn.Dataset(mnist.train.x[:500].astype(np.float64), mnist.train.y[:500])
    init_key, shuffle_key = jax.random.split(jax.random.key(0))
    start = jn.init_params(init_key, [784, 16, 10], dtype=np.float64)
    expected, _ = jn.fit(start, data, epochs=1, batch_size=10, key=shuffle_key)
    chex.assert_trees_all_equal(params, expected)
    # --resume of a float64 run continues in float64
  assert main(["train", "--resume", "--epochs", "2", "--quiet", "--out", str(out)]) == 0
  with jax.enable_x64(True):
    assert all(a.dtype == np.float64 for a in jax.tree.leaves(params_of(out)))


@pytest.mark.parametrize(
  "args, message",
  [
    (["--shared-shuffle"], "shared_shuffle=true needs a population"),
    (["--seeds", "0-1", "--data-parallel"], "data_parallel=true shards one network"),
    (["--seeds", "3-1"], "'3-1' is an empty range; expected FIRST-LAST, FIRST ≤ LAST"),
    (["--seeds", "x"], "'x' is not a seed or a seed range such as 0-15"),
    (["--eta", "3", "-1"], "eta=-1.0; expected a finite learning rate > 0"),
    (["--dtype", "float16"], "invalid choice: 'float16'"),
  ],
)
def test_bad_population_flags_are_one_line_exit_2(tmp_path, capsys, args, message):
  assert main(["train", *SMALL, *args, "--out", str(tmp_path / "x")]) == 2
  err = capsys.readouterr().err
  assert message in err and err.count("\n") == 1
  assert not (tmp_path / "x").exists()


def test_init_from_a_network_starts_every_member_from_it(tmp_path):
  net = jn.init_params(jax.random.key(5), [784, 16, 10])
  jn.save_params(tmp_path / "net.npz", net)
  config = TrainConfig(
    sizes=(784, 16, 10), epochs=1, train_size=100, seeds=(0, 1), init_from=str(tmp_path / "net.npz")
  )
  params = run.initial_params(config, run.member_keys(config)[0])
  for k in range(2):
    chex.assert_trees_all_equal(jn.member(params, k), net)
  transfer = config.replace(sizes=(784, 16, 5))
  params = run.initial_params(transfer, run.member_keys(transfer)[0])
  assert params[1].w.shape == (2, 5, 16)
  chex.assert_trees_all_equal(params[0].w[1], net[0].w)
  jn.save_params(tmp_path / "pop.npz", jn.init_population(jax.random.split(jax.random.key(0), 3),
                                                          [784, 16, 10]))  # fmt: skip
  with pytest.raises(
    CheckpointError, match="holds a population of 3 networks but the run trains 2"
  ):
    run.initial_params(
      config.replace(init_from=str(tmp_path / "pop.npz")), run.member_keys(config)[0]
    )


def test_the_epoch_line_of_a_population():
  line = epoch_line(
    3,
    {"train_cost": [0.1, 0.3], "test_accuracy": [0.9, 0.95], "validation_accuracy": [0.91, 0.93],
     "epoch_seconds": 1.5},
    10_000,
  )  # fmt: skip
  assert line == (
    "Epoch 3: test 92.50% ± 3.54% (90.00%–95.00%), validation 92.00% (mean), training cost "
    "0.2000 ± 0.1414, 1.50 s"
  )
