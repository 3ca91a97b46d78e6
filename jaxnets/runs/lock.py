"""One run at a time in a run's folder: an exclusive `flock` on the folder's `.lock` file.

The lock is the kernel's, tied to an open file: it is released when the run releases it, when the
process exits, and when it is killed (even by SIGKILL), so a lock left by a dead run never blocks
the next one. The file itself stays; it records the holder's PID and command line, written once
the lock is taken, so that a second run's error can name the first.
"""

import contextlib
import fcntl
import os
import shlex
import sys
import time

from jaxnets._checks import InputError

LOCK_FILE = ".lock"


class RunLocked(InputError):
  """The run's folder is locked by another run that is still alive."""


class RunLock:
  """A held lock on a run's folder: `release()` it, or use it as a context manager. A lock that
  is dropped without being released stays held until the process ends (never released early).

  Attributes:
    path: the lock file, `folder/.lock`.
  """

  def __init__(self, path: str, fd: int):
    self.path = path
    self._fd: int | None = fd

  @property
  def held(self) -> bool:
    """Whether this object still holds the lock."""
    return self._fd is not None

  def release(self) -> None:
    """Empties the lock file and releases the lock; releasing twice does nothing."""
    fd, self._fd = self._fd, None
    if fd is None:
      return
    try:
      with contextlib.suppress(OSError):  # the record is a courtesy; the lock is what counts
        os.ftruncate(fd, 0)
    finally:
      os.close(fd)  # closing the only descriptor of the open file releases the flock

  def __enter__(self) -> "RunLock":
    return self

  def __exit__(self, *exc) -> None:
    self.release()


def _command_line() -> str:
  """This process's command line, e.g. "python -m jaxnets train --out runs/a"."""
  argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
  if argv:
    argv[0] = os.path.basename(argv[0])
  return shlex.join(argv).replace("\n", "\\n")  # one line in the file, one in the message


def _holder(path: str, wait: float = 0.5) -> str:
  """ "pid 12345: python -m ..." from the lock file, waiting up to `wait` seconds for a holder
  that has just taken the lock to write it."""
  deadline = time.monotonic() + wait
  while True:
    with contextlib.suppress(OSError):
      with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
      pid, sep, command = text.partition("\n")
      if sep and command.endswith("\n") and pid.strip().isdigit():
        return f"pid {int(pid)}: {command.strip()}"
    if time.monotonic() >= deadline:
      return "pid unknown"
    time.sleep(0.01)


def lock_run(folder: str | os.PathLike) -> RunLock:
  """Takes the exclusive lock of a run's folder, for as long as the run lasts.

  Args:
    folder: the run's folder (`--out`); it must exist (the caller creates it).

  Returns:
    The held lock: call `release()` or use it in a `with` block. It is also released when the
    process ends, however it ends.

  Raises:
    RunLocked: another live process (or another lock in this one) holds the folder; the message
      names its PID and command line.
    InputError: `folder` is not an existing folder.
    OSError: the lock file can't be created (e.g. a read-only folder).
  """
  folder = os.fspath(folder)
  if not os.path.isdir(folder):
    raise InputError(f"--out {folder!r} is not an existing folder; expected the run's folder")
  path = os.path.join(folder, LOCK_FILE)
  fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    os.close(fd)
    raise RunLocked(
      f"--out {folder!r} is in use by another run ({_holder(path)}); "
      "wait for it to end or choose another folder"
    ) from None
  except BaseException:
    os.close(fd)
    raise
  lock = RunLock(path, fd)
  try:
    record = f"{os.getpid()}\n{_command_line()}\n".encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, record, 0)
  except OSError:
    pass  # a full disk: the lock holds all the same; a second run reads "pid unknown"
  except BaseException:
    lock.release()
    raise
  return lock
