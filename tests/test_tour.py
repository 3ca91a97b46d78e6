"""docs/tour.ipynb runs from top to bottom, uses the public API only, and is committed with its
outputs (so it reads on a web page). `JAXNETS_WRITE_TOUR=1 pytest tests/test_tour.py` writes the
fresh outputs back into it."""

import ast
import os
import re

import nbformat
from helpers import REPO

import jaxnets as jn
import jaxnets.data
import jaxnets.runs

TOUR = REPO / "docs" / "tour.ipynb"


def code_cells(nb):
  return [c for c in nb.cells if c.cell_type == "code"]


def text_of(cell) -> str:
  """A cell's printed output, its streams and plain-text results."""
  parts = []
  for o in cell.outputs:
    if o.output_type == "stream":
      parts.append(o.text)
    elif o.output_type in ("execute_result", "display_data"):
      parts.append(o.data.get("text/plain", ""))
  return "".join(parts)


def test_the_tour_uses_the_public_api_only():
  nb = nbformat.read(TOUR, as_version=4)
  public = {"jn": set(jn.__all__) | {"__version__"}, "runs": set(jaxnets.runs.__all__)}
  used = {"jn": set(), "runs": set()}
  for cell in code_cells(nb):
    source = "\n".join(l for l in cell.source.splitlines() if not l.startswith("%"))
    for node in ast.walk(ast.parse(source)):
      if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id in used:
          used[node.value.id].add(node.attr)
      if isinstance(node, ast.ImportFrom) and node.module.startswith("jaxnets"):
        module = {"jaxnets": jn, "jaxnets.data": jaxnets.data, "jaxnets.runs": jaxnets.runs}
        assert node.module in module, node.module
        for alias in node.names:
          names = module[node.module].__all__ + (
            ["data", "runs"] if node.module == "jaxnets" else []
          )
          assert alias.name in names, (node.module, alias.name)
  for name, names in used.items():
    assert names and names <= public[name], names - public[name]


def test_the_tour_is_committed_with_its_outputs():
  nb = nbformat.read(TOUR, as_version=4)
  cells = code_cells(nb)
  assert all(c.outputs for c in cells), [c.source[:40] for c in cells if not c.outputs]
  assert not any(o.output_type == "error" for c in cells for o in c.outputs)
  pictures = sum("image/png" in o.get("data", {}) for c in cells for o in c.outputs)
  assert pictures >= 8  # sigmoid, descent, curves, weights, mistakes, confusion, photo, spread, η


def test_the_tour_runs(tmp_path, monkeypatch):
  from nbclient import NotebookClient

  nb = nbformat.read(TOUR, as_version=4)
  monkeypatch.setenv("JAX_PLATFORMS", "cpu")
  monkeypatch.setenv("PYTHONPATH", str(REPO))
  NotebookClient(
    nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
  ).execute()
  out = {c.source.splitlines()[0]: text_of(c) for c in code_cells(nb) if c.source}
  every = "".join(out.values())
  assert "NAND(1, 1) = 0" in every and "NAND(0, 1) = 1" in every
  grad = re.search(r"jax.grad: +(-?[\d.]+)\nfinite differences: +(-?[\d.]+)", every)
  assert grad and abs(float(grad[1]) - float(grad[2])) < 1e-8 * max(1, abs(float(grad[1])))
  before, after = map(float, re.findall(r"mini-batch cost \w+: +([\d.]+)", every))
  assert after < before
  last = re.findall(r"epoch 4: training ([\d.]+)%, validation ([\d.]+)%, test ([\d.]+)%", every)
  assert last and all(75 < float(v) < 100 for v in last[0])  # 5 epochs on 10,000 images
  spread = re.search(r"final test accuracy of 8 seeds: ([\d.]+)%", every)
  assert spread and 75 < float(spread[1]) < 95
  assert re.search(r"best η: (1\.0|3\.0|10\.0)\n", every)
  photo = re.search(r"label (\d) - answer on the photo (\d) - on the original (\d)", every)
  assert photo and photo[2] == photo[3]
  assert "'recorded_from': 'the arguments of fit'" in every and "'batch_size': 10" in every
  if os.environ.get("JAXNETS_WRITE_TOUR") == "1":
    nbformat.write(nb, TOUR)


def test_the_tour_says_how_small_its_training_is():
  nb = nbformat.read(TOUR, as_version=4)
  said = " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
  assert said.count("10,000 training images") >= 3 and "make train" in said
