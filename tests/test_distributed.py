"""Runs over several processes (JAX's distributed runtime, CPU collectives by gloo), as real
processes on this host: 2 processes × 2 CPU devices each."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import chex
import numpy as np
import pytest
from helpers import ENV, REPO, one_at_a_time, params_of, wait_for_file

import jaxnets as jn
from jaxnets.runs import load_checkpoint

TWO_DEVICES = {**ENV, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
QUICK = {**TWO_DEVICES, "JAXNETS_HEARTBEAT_SECONDS": "15", "JAXNETS_CONNECT_SECONDS": "5"}
"""Each process with 2 CPU devices; a lost process noticed in 15 s (30 by default: shorter would
take a process busy compiling on a loaded machine for a lost one), a coordinator given up on in
5 s (60 by default)."""


@pytest.fixture(autouse=True)
def one_test_of_processes_at_a_time(tmp_path_factory):
  """Each test here starts 2 or 3 processes: two such tests at once on 2 cores (two xdist workers)
  would time each other out, so they take turns."""
  with one_at_a_time(tmp_path_factory, "processes"):
    yield


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


LIBRARY = r"""
import json, sys
import jax
import numpy as np
from jax.sharding import Mesh
import jaxnets as jn

index, count, port, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
if count > 1:
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(f"localhost:{port}", count, index)
from jax.experimental import multihost_utils
mnist = jn.load_mnist()
data = jn.Dataset(mnist.train.x[:1000], mnist.train.y[:1000])
test = jn.Dataset(mnist.test.x[:500], mnist.test.y[:500])
kw = dict(epochs=2, batch_size=40, key=jax.random.key(1), test=test)
one, h1 = jn.fit(jn.init_params(jax.random.key(0), [784, 30, 10]), data,
                 mesh=Mesh(np.array(jax.devices()), ("batch",)), **kw)
population = jn.init_population(jax.random.split(jax.random.key(2), 8), [784, 16, 10])
keys = jax.random.split(jax.random.key(3), 8)
members, h8 = jn.fit_population(population, data, epochs=2, batch_size=10, key=keys, test=test,
                                mesh=Mesh(np.array(jax.devices()), ("members",)))
def gather(tree):
  whole = multihost_utils.process_allgather(tree, tiled=True) if count > 1 else tree
  return jax.tree.map(lambda a: np.asarray(a).tolist(), whole)

with open(path, "w") as f:
  json.dump({"devices": jax.device_count(), "data_parallel": gather(one),
             "population": gather(members), "accuracy": h1.test_accuracy,
             "members_accuracy": h8.test_accuracy}, f)
"""


@pytest.fixture(scope="module")
def library_runs(tmp_path_factory):
  """The same script as 2 processes of 2 devices each, and as 1 process of 4 devices; each
  writes what it trained to a file (pipes read one at a time could fill, and a process whose
  output blocks would hold the other at the runtime's shutdown)."""
  with one_at_a_time(tmp_path_factory, "processes"):  # set up before the tests' own turn
    folder, port = tmp_path_factory.mktemp("library"), str(free_port())
    cmd = [sys.executable, "-c", LIBRARY]
    four = {**ENV, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    runs = [("0", "2", TWO_DEVICES), ("1", "2", TWO_DEVICES), ("0", "1", four)]
    procs = [
      subprocess.Popen([*cmd, index, count, port, str(folder / f"{n}.json")], env=env,
                       stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
      for n, (index, count, env) in enumerate(runs)
    ]  # fmt: skip
    for p in procs:
      _, err = p.communicate(timeout=300)
      assert p.returncode == 0, err[-3000:]
  first, second, alone = (json.loads((folder / f"{n}.json").read_text()) for n in range(3))
  return [first, second], alone


def test_data_parallel_over_two_processes_equals_one_process_of_four_devices(library_runs):
  (first, second), alone = library_runs
  assert first["devices"] == second["devices"] == alone["devices"] == 4
  for mine, theirs in zip(first["data_parallel"], alone["data_parallel"]):  # layer by layer
    for a, b in zip(mine, theirs):  # w, b
      np.testing.assert_allclose(a, b, atol=1e-5)  # float32 rounding: the all-reduce's order
  assert first["data_parallel"] == second["data_parallel"]  # every process ends with the same
  assert first["accuracy"] == second["accuracy"]


def test_a_population_over_two_processes_equals_its_single_runs(library_runs, mnist):
  """8 members split over 4 devices of 2 processes: member k equals its single run bit for bit,
  and every process sees every member's metrics."""
  (first, second), alone = library_runs
  assert first["population"] == second["population"] == alone["population"]
  assert first["members_accuracy"] == second["members_accuracy"]
  import jax  # noqa: PLC0415

  data = jn.Dataset(mnist.train.x[:1000], mnist.train.y[:1000])
  inits = jax.random.split(jax.random.key(2), 8)
  keys = jax.random.split(jax.random.key(3), 8)
  for k in (0, 5):
    single, _ = jn.fit(jn.init_params(inits[k], [784, 16, 10]), data, epochs=2, batch_size=10,
                       key=keys[k])  # fmt: skip
    got = [jn.Layer(np.float32(w[k]), np.float32(b[k])) for w, b in first["population"]]
    chex.assert_trees_all_equal(got, jax.tree.map(np.asarray, single))


RUN = ["--sizes", "784", "16", "10", "--train-size", "1000", "--batch-size", "10"]


def train_process(tmp_path, port, index, *args):
  """`python -m jaxnets train ARGS` as process `index` of 2 of a distributed run, its --out
  tmp_path/a for process 0, tmp_path/b for process 1 (which must stay unwritten)."""
  return subprocess.Popen(
    [sys.executable, "-m", "jaxnets", "train", *RUN, *args, "--coordinator", f"localhost:{port}",
     "--num-processes", "2", "--process-id", str(index), "--out", str(tmp_path / "ab"[index])],
    env=QUICK, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
  )  # fmt: skip


def train_processes(tmp_path, port, *args):
  return [train_process(tmp_path, port, i, *args) for i in range(2)]


def finish(procs, timeout=300):
  return [(p.wait(timeout=timeout), *p.communicate()) for p in procs]


def test_a_two_process_run_writes_one_folder_and_resumes_as_one_process_runs(tmp_path):
  """Process 0 alone writes the run's folder (process 1's --out stays empty); resumed, both
  processes continue from process 0's checkpoint; the result equals the same population trained
  by one process, bit for bit."""
  results = finish(train_processes(tmp_path, free_port(), "--seeds", "0-3", "--epochs", "2"))
  assert [r[0] for r in results] == [0, 0], results
  assert not (tmp_path / "b").exists()  # process 1 wrote nothing
  assert "[Gloo]" not in results[0][1] + results[1][1]  # the runtime's notes are not shown
  assert "on cpu (4 devices)" in results[0][1] and results[1][1] == ""
  resumed = finish(
    train_processes(tmp_path, free_port(), "--resume", "--epochs", "3", "--seeds", "0-3")
  )
  assert [r[0] for r in resumed] == [0, 0], resumed
  one = subprocess.run(
    [sys.executable, "-m", "jaxnets", "train", *RUN, "--seeds", "0-3", "--epochs", "3", "--quiet",
     "--out", str(tmp_path / "one")],
    env=TWO_DEVICES, capture_output=True, text=True, cwd=REPO,
  )  # fmt: skip
  assert one.returncode == 0, one.stderr
  chex.assert_trees_all_equal(params_of(tmp_path / "a"), params_of(tmp_path / "one"))
  two, single = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("a", "one"))
  assert two["test_accuracy"] == single["test_accuracy"] and len(two["test_accuracy"]) == 3


def test_processes_must_agree_on_the_run(tmp_path):
  port = free_port()
  a = train_process(tmp_path, port, 0, "--seeds", "0-3", "--epochs", "1")
  b = train_process(tmp_path, port, 1, "--seeds", "0-4", "--epochs", "1")
  (status_a, _, err_a), (status_b, _, err_b) = finish([a, b])
  assert status_b == 2, err_b
  assert err_b.count("\n") == 1 and "Traceback" not in err_b
  difference = "process 0's: --seeds is [[0, 1, 2, 3, 4]] here but [[0, 1, 2, 3]] in process 0"
  assert difference in err_b
  assert status_a != 0 and err_a.count("\n") == 1 and "Traceback" not in err_a


def test_a_killed_process_ends_the_others_with_one_line(tmp_path):
  procs = train_processes(tmp_path, free_port(), "--seeds", "0-3", "--epochs", "400",
                          "--train-size", "5000")  # fmt: skip
  wait_for_file(tmp_path / "a" / "checkpoint.npz", procs[0], timeout=120)
  procs[1].send_signal(signal.SIGKILL)  # its supervisor: its worker dies with it
  start = time.monotonic()
  status, _, err = finish(procs[:1], timeout=120)[0]
  assert time.monotonic() - start < 60
  assert status == 1 and err.count("\n") == 1 and "Traceback" not in err, err
  assert err.startswith("error: process 0 of 2: another process of the run stopped")
  epochs = load_checkpoint(tmp_path / "a" / "checkpoint.npz").epoch
  assert f"the last complete checkpoint (after {epochs} epoch" in err
  procs[1].wait()


def test_a_coordinator_out_of_reach_is_one_line_within_the_timeout(tmp_path):
  start = time.monotonic()
  done = subprocess.run(
    [sys.executable, "-m", "jaxnets", "train", *RUN, "--coordinator", f"localhost:{free_port()}",
     "--num-processes", "2", "--process-id", "1", "--out", str(tmp_path / "x")],
    env=QUICK, capture_output=True, text=True, cwd=REPO, timeout=120,
  )  # fmt: skip
  assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
  assert done.stderr.startswith("error: process 1 of 2: the coordinator localhost:")
  assert "could not be reached within 5 s" in done.stderr
  assert time.monotonic() - start < 40
  assert not (tmp_path / "x").exists()


def test_a_signal_to_process_0_stops_every_process_after_the_same_epoch(tmp_path):
  procs = train_processes(tmp_path, free_port(), "--seeds", "0-3", "--epochs", "400",
                          "--train-size", "5000")  # fmt: skip
  wait_for_file(tmp_path / "a" / "checkpoint.npz", procs[0], timeout=120)
  procs[0].send_signal(signal.SIGINT)  # as Ctrl-C in process 0's terminal
  (s0, _, e0), (s1, _, e1) = finish(procs, timeout=120)
  assert (s0, s1) == (130, 130), (e0, e1)
  epoch = int(e0.split("after epoch ")[1].split(";")[0])
  assert f"stopped by SIGINT after epoch {epoch}" in e1  # the same epoch on both
  assert load_checkpoint(tmp_path / "a" / "checkpoint.npz").epoch == epoch + 1
  assert os.listdir(tmp_path) == ["a"]


@pytest.mark.parametrize(
  ("flags", "message"),
  [
    (["--coordinator", "h:1"], "a distributed run needs --num-processes, --process-id too"),
    (["--distributed", "--process-id", "0"], "--distributed finds the coordinator"),
    (["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
     "--process-id 2 of --num-processes 2; expected N ≥ 1 and I from 0 to N - 1"),
    (["--coordinator", "h", "--num-processes", "2", "--process-id", "0"],
     "--coordinator 'h'; expected HOST:PORT"),
  ],
)  # fmt: skip
def test_bad_distributed_flags_are_one_line(capsys, flags, message):
  from jaxnets.cli import main  # noqa: PLC0415

  assert main(["train", *flags]) == 2
  err = capsys.readouterr().err
  assert message in err and err.count("\n") == 1


def test_the_supervisor_drops_gloos_notes_even_when_two_threads_interleave_them():
  """Gloo's threads write their notes in pieces; two at once interleave between pieces: one line
  with both beginnings and a line holding a number, or a line "[Gloo] Rank " + a whole note and
  a line with the rest of the first. No piece reaches the user; other lines do."""
  import io  # noqa: PLC0415

  from jaxnets.runs.distributed import _relay  # noqa: PLC0415

  note = "[Gloo] Rank 1 is connected to 3 peer ranks. Expected number of connected peer ranks is : "
  rest = note.removeprefix("[Gloo] Rank ").replace("3", "1")
  stream = [f"{note}3\n", f"{note}{note}3\n", "3\n", "Epoch 0: 3\n", "3 networks\n",
            f"[Gloo] Rank {note}1\n", f"{rest}1\n", "I1206 16:00:00.000 1 gloo.cc:1] x\n",
            "error: why\n"]  # fmt: skip
  out, said = io.StringIO(), []
  _relay(iter(stream), None, out, said)
  assert out.getvalue() == "Epoch 0: 3\n3 networks\nerror: why\n"
  assert said == ["error: why\n"]


def test_the_workers_own_error_line_is_passed_on_after_the_runtimes_report_began():
  """The runtime may log another process's end before the worker says why it stops: the
  worker's line still reaches the user (and decides the exit status); the log stays aside."""
  import io  # noqa: PLC0415

  from jaxnets.runs.distributed import _relay  # noqa: PLC0415

  log = "E1206 19:00:00.000 1 coordination_service_agent.cc:1] GetKeyValue: UNAVAILABLE\n"
  out, said, report = io.StringIO(), [], []
  _relay(iter([log, "error: this process's flags differ\n", "more\n"]), report, out, said)
  assert out.getvalue() == "error: this process's flags differ\n"
  assert said == ["error: this process's flags differ\n"]
  assert report == [log.rstrip("\n"), "more"]
