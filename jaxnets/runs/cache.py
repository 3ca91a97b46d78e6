"""JAX's persistent compilation cache, so that a second run skips compiling."""

import os

import jax


def default_cache_dir() -> str:
  """`$JAXNETS_CACHE_DIR`, else `$XDG_CACHE_HOME/jaxnets/jax`, else `~/.cache/jaxnets/jax`."""
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.environ.get("JAXNETS_CACHE_DIR") or os.path.join(base, "jaxnets", "jax")


CACHE_HELP = (
  f"Compiled programs are cached in {default_cache_dir()} ($JAXNETS_CACHE_DIR to move it), so "
  "that a second run skips compiling; JAXNETS_COMPILATION_CACHE=0 turns the cache off."
)
"""What `train --help` says of the cache."""


def enable_compilation_cache(path: str | None = None) -> str | None:
  """Turns on JAX's persistent compilation cache for every jitted function.

  Args:
    path: the cache folder; default `$JAXNETS_CACHE_DIR`, else `~/.cache/jaxnets/jax` (or under
      `$XDG_CACHE_HOME`). Nothing changes if a cache folder is already configured, or if
      `JAXNETS_COMPILATION_CACHE=0`.

  Returns:
    The cache folder in use, or None.
  """
  if os.environ.get("JAXNETS_COMPILATION_CACHE", "1") == "0":
    return None
  configured = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
  if configured:
    return str(configured)
  if path is None:
    path = default_cache_dir()
  try:
    os.makedirs(path, exist_ok=True)
  except OSError:
    return None
  jax.config.update("jax_compilation_cache_dir", path)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  return path
