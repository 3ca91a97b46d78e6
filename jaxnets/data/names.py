"""Dataset names: what a TFDS name looks like, and the nearest names to a misspelt one, each
once, in the project's words (the bundled 'mnist', then TFDS's)."""

import difflib
import re

from jaxnets.data.dataset import DataError

NAME = re.compile(r"[a-z0-9_]+(/[A-Za-z0-9_.+-]+)?(:[0-9.*]+)?")
"""A TFDS name: NAME[/CONFIG][:VERSION], the name in lower case, digits and underscores."""


def close_matches(tfds, name: str) -> str:
  """'; did you mean ...?' for an unknown dataset (or config) name, each name once, or ''."""
  base, _, config = name.partition(":")[0].partition("/")
  if config:
    try:
      configs = [f"{base}/{c}" for c in tfds.builder_cls(base).builder_configs]
    except Exception:  # noqa: BLE001 (an unknown base name: suggest datasets instead)
      configs = []
    if configs:
      matches = difflib.get_close_matches(name, configs, n=5, cutoff=0.5) or configs[:10]
      return f"; did you mean {either_of(matches)}?"
  names = sorted(set(tfds.list_builders(with_community_datasets=False)) - {"mnist"})
  wanted = base.lower().replace("-", "_")
  bundled = "'mnist' (bundled with jaxnets)" if wanted != "mnist" and difflib.get_close_matches(
    wanted, ["mnist"], cutoff=0.7
  ) else ""  # fmt: skip
  matches = [wanted] if wanted in names else difflib.get_close_matches(wanted, names, 4, 0.7)
  kind = "the TFDS dataset" if len(matches) == 1 else "the TFDS datasets"
  tfds_names = f"{kind} {either_of(matches)}" if matches else ""
  either = ", or ".join(filter(None, (bundled, tfds_names)))
  return f"; did you mean {either}?" if either else ""


def either_of(names: list[str]) -> str:
  """The names quoted and joined: 'a', 'b' or 'c'."""
  quoted = [repr(n) for n in names]
  return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def unknown(tfds, name: str, data_dir: str) -> DataError:
  """The error for a name that is no dataset, with the nearest names."""
  return DataError(
    f"dataset {name!r} is not the bundled 'mnist', a .csv or .npz file, an IDX folder or a TFDS "
    f"dataset (nor one prepared in {data_dir!r}){close_matches(tfds, name)}"
  )
