"""A run's folder: created, locked for the whole run, and checked before anything is written.

A folder holding an earlier run is refused unless the run resumes it or replaces it (`force`);
a run that fails before writing anything removes a folder it created, so bad input leaves nothing.
"""

import contextlib
import os
from collections.abc import Iterator

from jaxnets._checks import InputError
from jaxnets.runs.lock import LOCK_FILE, lock_run

RUN_FILES = (
  "config.json",
  "checkpoint.npz",
  "metrics.json",
  "curves.png",
  "params.npz",
  "weights.png",
  "mistakes.png",
  "confusion.png",
)
"""The files a run writes into its folder."""
CHECKPOINT = "checkpoint.npz"


class RunError(InputError):
  """A run that can't start as asked (its data, its output folder): one line, exit status 2."""


def check_out(out: str | None, force: bool, resume: bool) -> None:
  """Refuses an `out` that is a file, or holds an earlier run unless `force` or `resume`."""
  if out is None:
    if resume:
      raise RunError("--resume needs --out, the folder of the run to continue")
    return
  if os.path.exists(out) and not os.path.isdir(out):
    raise RunError(f"--out {out!r} is a file; expected a folder (new or empty)")
  if resume:
    if not os.path.exists(os.path.join(out, CHECKPOINT)):
      raise RunError(f"--resume: {out!r} holds no {CHECKPOINT} to continue from")
    return
  earlier = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
  if earlier and not force:
    raise RunError(
      f"--out {out!r} holds an earlier run ({', '.join(earlier)}); pass --resume to continue "
      "it, --force to overwrite it, or choose another folder"
    )


@contextlib.contextmanager
def claimed(out: str | None, force: bool, resume: bool) -> Iterator[None]:
  """Holds the run's folder for the whole run: created if missing, locked against every other
  run (`lock_run`), then checked (`check_out`). If the run fails before writing anything, a
  folder it created is removed again, so bad input leaves nothing behind."""
  if out is None or (os.path.exists(out) and not os.path.isdir(out)):
    check_out(out, force, resume)
    yield
    return
  created = not os.path.exists(out)
  os.makedirs(out, exist_ok=True)
  lock = lock_run(out)
  try:
    check_out(out, force, resume)
    yield
  except BaseException:
    if created and os.listdir(out) == [LOCK_FILE]:
      os.remove(os.path.join(out, LOCK_FILE))
      os.rmdir(out)
    raise
  finally:
    lock.release()


def check_folder(out: str, replace: bool, resume: bool) -> None:
  """Refuses an `out` that is a file, or that holds another run unless `replace` or `resume`."""
  if os.path.exists(out) and not os.path.isdir(out):
    raise RunError(f"out={out!r} is a file; expected a folder (new or empty)")
  if resume:
    if not os.path.exists(os.path.join(out, CHECKPOINT)):
      raise RunError(f"resume=True but {out!r} holds no {CHECKPOINT} to continue from")
    return
  earlier = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))]
  if earlier and not replace:
    raise RunError(
      f"{out!r} holds another run ({', '.join(earlier)}); pass replace=True to replace it, "
      "resume=True to continue it, or choose another folder"
    )
