"""Writing files atomically: a temporary file in the same folder, fsync, rename.

A crash at any moment leaves either the old file or the new one, never half of one. A write that
fails (a full disk, a read-only or missing folder) raises `WriteError`, naming the destination,
and leaves the old file as it was. Shared by the runs' files and the benchmark's.
"""

import contextlib
import errno
import io
import json
import math
import os
import tempfile
from typing import Any


class WriteError(OSError):
  """A file that could not be written for a reason of the system (a full disk, a read-only or
  missing folder, no permission, an I/O error): the message names the destination file and the
  system's reason, e.g. "can't write 'runs/a/checkpoint.npz': No space left on device (ENOSPC)".

  Attributes:
    errno, strerror: the system's error (errno is None when it gave none).
    filename: the destination, as the caller named it.
  """

  def __init__(self, code: int | None, strerror: str, filename: str, message: str):
    super().__init__(code, strerror, filename)
    self.message = message

  def __str__(self) -> str:
    return self.message

  def __reduce__(self):
    return (type(self), (self.errno, self.strerror, self.filename, self.message))


def write_error(path: str, error: OSError) -> WriteError:
  """`error`, met while writing `path`, as a WriteError naming `path` (not a temporary file)."""
  text = error.strerror or str(error)
  folder = os.path.dirname(path) or "."
  if not os.path.isdir(folder):
    what = "is not a folder" if os.path.exists(folder) else "does not exist"
    message = f"can't write {path!r}: its folder {folder!r} {what}"
  else:
    name = errno.errorcode.get(error.errno) if error.errno is not None else None
    message = f"can't write {path!r}: {text}" + (f" ({name})" if name else "")
  return WriteError(error.errno, text, path, message)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
  """Writes `data` to `path` through a temporary file, fsync and rename: all or nothing.

  Args:
    path: the destination; its folder must exist.
    data: the file's bytes.

  Raises:
    WriteError: the system refused (a full disk, a read-only or missing folder, ...). The
      temporary file is removed and an earlier file at `path` is left as it was.
  """
  path = os.fspath(path)
  folder = os.path.dirname(os.path.abspath(path))
  tmp = None
  try:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
      os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 → what open() would have given
      view = memoryview(data)
      while view:
        view = view[os.write(fd, view) :]
      os.fsync(fd)
    finally:
      os.close(fd)
    os.replace(tmp, path)
    tmp = None
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
      os.fsync(dir_fd)
    finally:
      os.close(dir_fd)
  except OSError as e:
    raise write_error(path, e) from e
  finally:
    if tmp is not None:
      with contextlib.suppress(OSError):
        os.unlink(tmp)


def _umask() -> int:
  mask = os.umask(0)
  os.umask(mask)
  return mask


def write_json(path: str | os.PathLike, obj: Any) -> None:
  """Writes JSON atomically, indented; a NaN or infinite float becomes null."""

  def clean(v):
    if isinstance(v, float) and not math.isfinite(v):
      return None
    if isinstance(v, (list, tuple)):
      return [clean(x) for x in v]
    if isinstance(v, dict):
      return {k: clean(x) for k, x in v.items()}
    return v

  write_atomic(path, (json.dumps(clean(obj), indent=2) + "\n").encode())


def write_png(path: str | os.PathLike, fig: Any, dpi: int = 100) -> None:
  """A matplotlib figure as a PNG file, written atomically."""
  buffer = io.BytesIO()
  fig.savefig(buffer, format="png", dpi=dpi)
  write_atomic(path, buffer.getvalue())
