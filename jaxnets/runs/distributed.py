"""A run over several processes: JAX's distributed runtime (`jax.distributed`), watched.

`python -m jaxnets train --coordinator HOST:PORT --num-processes N --process-id I` (or
`--distributed`, where JAX finds those itself: SLURM, Open MPI, TPU pods) runs in two processes
on each host: this module's `supervise`, which imports no JAX, and a worker it starts, the same
command line, which joins the runtime and trains. JAX's runtime ends every process of a run when
one of them dies or the coordinator can't be reached, by aborting it with a C++ stack trace; the
supervisor turns that into one line (and the worker's other output passes through), forwards
SIGINT and SIGTERM to the worker, and exits with its status.

In the worker: `initialize` joins the runtime; `agree` sends process 0's values (the config, a
checkpoint's state) to every process, so that all train the same run from the same state; only
process 0 takes the run folder's lock and writes files.
"""

import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
from typing import Any

WORKER = "JAXNETS_DISTRIBUTED_WORKER"
"""Set in a worker's environment: the command line then trains instead of supervising."""

HEARTBEAT_SECONDS = int(os.environ.get("JAXNETS_HEARTBEAT_SECONDS", 30))
"""A process that stops answering for this long is declared dead, and the others end
(`$JAXNETS_HEARTBEAT_SECONDS` to choose)."""

CONNECT_SECONDS = int(os.environ.get("JAXNETS_CONNECT_SECONDS", 60))
"""How long a process waits for the coordinator (and for every process to join) at the start
(`$JAXNETS_CONNECT_SECONDS` to choose)."""

_LOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d")  # absl/glog: "F1206 14:08:28.07  123 file:80] "
_GLOO_WORDS = frozenset(
  "[Gloo] Rank is connected to peer ranks ranks. Expected number of :".split()
)
"""The words of gloo's note "[Gloo] Rank 1 is connected to 1 peer ranks. Expected number of
connected peer ranks is : 1", which its threads write in pieces: two notes at once interleave
anywhere between pieces ("[Gloo] Rank [Gloo] Rank 1 is … : 1" and a line "1 is connected … : 1"),
so a line of these words and numbers alone is a piece of one."""


class DistributedError(RuntimeError):
  """The distributed run could not start, or lost a process."""


def supervise(argv: list[str], coordinator: str | None, process: str, out: str | None) -> int:
  """Runs the worker (this command line again, with `WORKER` set) and reports its end.

  Args:
    argv: the command line's arguments, passed to the worker as they are.
    coordinator: HOST:PORT, for the messages (None: found by JAX).
    process: "process I of N", for the messages.
    out: the run's folder, whose last checkpoint a message names (process 0's; else None).

  Returns:
    The exit status: the worker's, or 1 with one line when the runtime ended it.
  """
  env = {**os.environ, WORKER: "1", "PYTHONUNBUFFERED": "1"}
  worker = subprocess.Popen(
    [sys.executable, "-m", "jaxnets", *argv],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    env=env,
    start_new_session=True,  # signals reach it through us, once
    preexec_fn=_die_with_parent,
  )
  forwarded: list[int] = []

  def forward(signum, frame):
    forwarded.append(signum)
    worker.send_signal(signum)

  previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
  report: list[str] = []
  said: list[str] = []  # the worker's own one-line errors, relayed
  readers = [
    threading.Thread(target=_relay, args=(worker.stderr, report, sys.stderr, said), daemon=True),
    threading.Thread(target=_relay, args=(worker.stdout, None, sys.stdout, said), daemon=True),
  ]
  for reader in readers:
    reader.start()
  try:
    status = worker.wait()
  finally:
    for s, h in previous.items():
      signal.signal(s, h)
  for reader in readers:
    reader.join(timeout=5)
  if status >= 0 and not report:
    return status
  if said:  # the worker said why in its line: the runtime's report after it adds nothing
    return status if status > 0 else 1
  line = _explain("\n".join(report), coordinator, process, status)
  print(f"error: {line}{_kept(out)}", file=sys.stderr, flush=True)
  return 1


def _kept(out: str | None) -> str:
  """ "; the last complete checkpoint (after K epochs) is OUT/checkpoint.npz", or ""."""
  path = os.path.join(out, "checkpoint.npz") if out else None
  if path is None or not os.path.isfile(path):
    return ""
  try:
    import numpy as np  # noqa: PLC0415

    with np.load(path, allow_pickle=False) as npz:
      epochs = int(npz["epoch"])
  except (OSError, ValueError, KeyError):
    return ""
  return f"; the last complete checkpoint (after {epochs} epoch{'s' * (epochs != 1)}) is {path}"


def _die_with_parent() -> None:
  """In the worker, before it runs: end it (SIGKILL) if its supervisor dies (Linux)."""
  try:
    import ctypes  # noqa: PLC0415

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
  except (OSError, AttributeError):
    pass


def _relay(stream, report: list[str] | None, out, said: list[str]) -> None:
  """Copies a stream of the worker to ours, but for the runtime's logging and gloo's notes; on
  stderr (`report` given), from the runtime's first error on, everything is kept aside in
  `report` instead (the process is ending), but for the worker's own one-line error, which is
  passed on whenever it comes (the runtime may log the others' end before the worker says why)."""
  for line in stream:
    own = line.startswith("error: ")
    if report is not None and not own and (report or (_LOG.match(line) and line[0] in "EF")):
      report.append(line.rstrip("\n"))
    elif own or not (_LOG.match(line) or _is_gloos(line)):
      out.write(line)
      out.flush()
      if own:
        said.append(line)


def _is_gloos(line: str) -> bool:
  """Whether `line` is gloo's note, or pieces of its notes (`_GLOO_WORDS`)."""
  words = line.split()
  return "[Gloo]" in line or (bool(words) and all(w in _GLOO_WORDS or w.isdigit() for w in words))


def _explain(report: str, coordinator: str | None, process: str, status: int) -> str:
  """One line for the runtime's report on why a worker ended."""
  where = f"the coordinator {coordinator}" if coordinator else "the coordinator"
  joining = "RegisterTask" in report or ("DEADLINE" in report and "connect" in report.lower())
  if joining and process.startswith("process 0 "):
    return (
      f"{process}: not every process of the run joined {where} within {CONNECT_SECONDS} s; "
      "expected each to be started with the same --coordinator and --num-processes"
    )
  if joining:
    return (
      f"{process}: {where} could not be reached within {CONNECT_SECONDS} s; expected process 0 "
      "of the run to be running there, and the address to be reachable from here"
    )
  if "unhealthy" in report or "detected fatal errors" in report or "heartbeat" in report:
    return (
      f"{process}: another process of the run stopped (it died, was killed, or stopped "
      f"answering for {HEARTBEAT_SECONDS} s); the run cannot go on without it"
    )
  signame = signal.Signals(-status).name if status < 0 else f"status {status}"
  first = next((ln for ln in report.splitlines() if ln.strip()), "no message")
  return f"{process}: the worker ended ({signame}): {_LOG.sub('', first).strip()[:200]}"


def initialize(coordinator: str | None, num_processes: int | None, process_id: int | None) -> None:
  """Joins JAX's distributed runtime (CPU collectives by gloo); with no arguments, JAX finds them
  (SLURM, Open MPI, TPU pods)."""
  import jax  # noqa: PLC0415  (the supervisor never imports JAX)

  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(
    coordinator,
    num_processes,
    process_id,
    initialization_timeout=CONNECT_SECONDS,
    heartbeat_timeout_seconds=HEARTBEAT_SECONDS,
  )


def is_leader() -> bool:
  """Whether this process writes the run's files: process 0, or the only one."""
  import jax  # noqa: PLC0415

  return jax.process_index() == 0


_SHARED = itertools.count()
"""How many values this process has had from process 0: the key of the next in the runtime's
store."""

AGREE_SECONDS = 3600
"""How long a process waits for process 0's value (the runtime ends a run that lost a process
sooner: `HEARTBEAT_SECONDS`)."""


CHUNK_BYTES = 1 << 20
"""The most bytes one entry of the runtime's store holds: a larger value is sent in chunks."""


def _from_leader(data: bytes | None) -> bytes:
  """Process 0's `data` on every process (None elsewhere), through the distributed runtime's
  key-value store (the coordinator), not a compiled collective: with JAX 0.12.1 on CPU, broadcasts
  (`multihost_utils.broadcast_one_to_all`) made after process 0 read a checkpoint hung in every
  process. Every process calls it, in the same order, and leaves it when all have it."""
  from jax._src import distributed as runtime  # noqa: PLC0415  (the runtime's client: not public)

  client, key = runtime.global_state.client, f"jaxnets/shared/{next(_SHARED)}"
  if client is None:
    raise DistributedError("this process has not joined a distributed run (initialize first)")
  if data is not None:
    chunks = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
    for i, chunk in enumerate(chunks):
      client.key_value_set_bytes(f"{key}/{i}", chunk)
    client.key_value_set(f"{key}/count", str(len(chunks)))  # last: the chunks are all there
  else:
    count = int(client.blocking_key_value_get(f"{key}/count", AGREE_SECONDS * 1000))
    data = b"".join(client.blocking_key_value_get_bytes(f"{key}/{i}", 1000) for i in range(count))
  # every process leaves together, as from a collective: none ends the run (process 0 serves the
  # store) while another is still reading
  client.wait_at_barrier(f"{key}/read", AGREE_SECONDS * 1000)
  return data


def agree(value: Any) -> Any:
  """Process 0's JSON-ready `value`, on every process (every process calls it, in the same
  order)."""
  import jax  # noqa: PLC0415

  if jax.process_count() == 1:
    return value
  text = json.dumps(value, sort_keys=True).encode() if jax.process_index() == 0 else None
  return json.loads(_from_leader(text).decode())


def first_difference(mine: dict, leaders: dict) -> str | None:
  """The first key whose value differs between two configs, as "key: mine vs leader's"."""
  for key in sorted(set(mine) | set(leaders)):
    if mine.get(key) != leaders.get(key):
      flag = "--" + key.replace("_", "-")
      return f"{flag} is {mine.get(key)!r} here but {leaders.get(key)!r} in process 0"
  return None


def run_mesh(population: bool, data_parallel: bool):
  """The mesh a run trains on: a population's members over every device (of every process), a
  data-parallel run's mini-batches over them; None on a single device (or neither)."""
  import jax  # noqa: PLC0415
  import numpy as np  # noqa: PLC0415
  from jax.sharding import Mesh  # noqa: PLC0415

  if jax.device_count() == 1 or not (population or data_parallel):
    return None
  return Mesh(np.array(jax.devices()), ("members",) if population else ("batch",))


def share_state(state, like):
  """Process 0's (params, opt_state, epochs done, history dict), loaded from its checkpoint, on
  every process: `state` is that tuple on process 0 (None elsewhere), `like` the (params,
  opt_state) shapes (`jax.eval_shape`) that every process knows."""
  import jax  # noqa: PLC0415
  import numpy as np  # noqa: PLC0415

  if jax.process_count() == 1:
    return state
  done, history = agree(None if state is None else [state[2], state[3]])
  data = None
  if state is not None:
    arrays = {str(i): np.asarray(a) for i, a in enumerate(jax.tree.leaves(state[:2]))}
    with io.BytesIO() as f:
      np.savez(f, **arrays)
      data = f.getvalue()
  with np.load(io.BytesIO(_from_leader(data)), allow_pickle=False) as npz:
    leaves = [npz[str(i)] for i in range(len(npz.files))]
  params, opt_state = jax.tree.unflatten(jax.tree.structure(like), leaves)
  return params, opt_state, done, history


def check_flags(mine: dict) -> None:
  """That every process runs with process 0's flags: where one doesn't, it names the first
  difference, and every other process says which process differs (each process raises)."""
  import numpy as np  # noqa: PLC0415
  from jax.experimental import multihost_utils  # noqa: PLC0415

  from jaxnets.runs.config import ConfigError  # noqa: PLC0415

  difference = first_difference(mine, agree(mine))
  fine = np.asarray(multihost_utils.process_allgather(np.array([difference is None]), tiled=True))
  if not fine.all():  # every process knows: each finishes the runtime's calls before it says so
    multihost_utils.sync_global_devices("jaxnets: the flags disagree")
  if difference is not None:
    raise ConfigError(
      f"this process's flags differ from process 0's: {difference}; expected the same command "
      "line on every process (but --process-id, --out, --quiet, --force)"
    )
  if not fine.all():
    others = np.flatnonzero(~fine).tolist()
    raise ConfigError(
      f"process(es) {others} run with other flags than process 0 (their lines say which); "
      "expected the same command line on every process"
    )


def leaders(compute):
  """`compute()` on process 0 (a JSON-ready value), on every process; an `InputError` it raises
  is raised on every process, with its message."""
  from jaxnets._checks import InputError  # noqa: PLC0415

  shared = None
  if is_leader():
    try:
      shared = {"value": compute()}
    except InputError as e:
      shared = {"error": str(e), "type": type(e).__name__}
  shared = agree(shared)
  if "error" in shared:
    raise InputError(shared["error"])
  return shared["value"]
