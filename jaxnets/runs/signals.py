"""Stopping a run by signal: the first SIGINT or SIGTERM asks it to stop after its epoch (with a
checkpoint), the second stops it at once, even while the device computes (`interruptible_wait`).
"""

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import jax

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Aborted(KeyboardInterrupt):
  """A second SIGINT or SIGTERM: stop now, without finishing the epoch.

  Raised from the signal handler, so it surfaces wherever the main thread is running Python.
  A `KeyboardInterrupt`, so that `except Exception` does not swallow it.

  Attributes:
    signum: the signal's number (signal.SIGINT or signal.SIGTERM).
  """

  def __init__(self, signum: int):
    super().__init__(f"stopped at once by a second {signal.Signals(signum).name}")
    self.signum = signum

  def __reduce__(self):
    return (type(self), (self.signum,))


class StopRequest:
  """What `stop_on_signals` yields: `signum` is None until the first signal, then its number.

  `bool(request)` tells whether a stop was asked for.
  """

  def __init__(self):
    self.signum: int | None = None

  def __bool__(self) -> bool:
    return self.signum is not None

  @property
  def name(self) -> str | None:
    """The first signal's name, e.g. "SIGINT"; None before it."""
    return None if self.signum is None else signal.Signals(self.signum).name


@contextlib.contextmanager
def stop_on_signals(notice: str | None = None) -> Iterator[StopRequest]:
  """While inside, the first SIGINT or SIGTERM only records itself; the second raises `Aborted`.

  The first signal sets the yielded request's `signum`: the run finishes its epoch, checkpoints
  and stops. The second (either signal) raises `Aborted(signum)` from the handler, in the main
  thread, as soon as it runs Python again. On exit the previous handlers are restored.

  Outside the main thread, where Python can't set handlers, nothing is installed and the
  request never trips.

  Args:
    notice: a line written to stderr on the first signal, e.g. "stopping after this epoch;
      press Ctrl-C again to stop now" (written to the file descriptor directly, which is safe
      in a handler that may interrupt a print).

  Yields:
    The `StopRequest`.
  """
  request = StopRequest()
  if threading.current_thread() is not threading.main_thread():
    yield request
    return

  def handler(signum, frame):
    if request.signum is not None:
      raise Aborted(signum)
    request.signum = signum
    if notice:
      with contextlib.suppress(OSError):
        os.write(2, (notice.rstrip("\n") + "\n").encode())

  previous = {}
  try:
    for s in SIGNALS:
      previous[s] = signal.signal(s, handler)
    yield request
  finally:
    for s, h in previous.items():
      signal.signal(s, signal.SIG_DFL if h is None else h)  # None: a handler set outside Python


def interruptible_wait(tree: Any) -> None:
  """Blocks until every JAX array of `tree` is computed, in a wait that a signal interrupts: the
  main thread waits on an event (a signal handler runs there, and may raise `Aborted`) while a
  thread waits on the device. (`jax.block_until_ready` waits in C++, where no handler runs.) The
  computation's error (a lost process of a distributed run, say) is raised here, in the caller's
  thread."""
  leaves = [a for a in jax.tree.leaves(tree) if isinstance(a, jax.Array)]
  if all(a.is_ready() for a in leaves):  # type: ignore[attr-defined]  # (not in jax's stubs)
    return
  done = threading.Event()
  failed: list[BaseException] = []

  def wait():
    try:
      jax.block_until_ready(leaves)
    except BaseException as e:  # noqa: BLE001  (handed to the caller's thread)
      failed.append(e)
    finally:
      done.set()

  threading.Thread(target=wait, name="jaxnets-wait", daemon=True).start()
  done.wait()
  if failed:
    raise failed[0]
