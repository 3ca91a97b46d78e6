"""The docs cannot rot: their numbers are generated from results/, their code runs, their links
resolve, and the public names they list are `jaxnets.__all__`."""

import os
import re
import sys

import pytest
from helpers import REPO

import jaxnets as jn

sys.path.insert(0, str(REPO / "docs"))
import generate  # noqa: E402

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- test: (?P<test>.*?) -->\n)?```python\n(?P<code>.*?)```", re.S)


def test_the_generated_pages_agree_with_their_sources_and_the_results():
  assert generate.main(["--check"]) == 0, "run `make docs`"


def blocks(page):
  """The ```python blocks of a page, as they run in the tests: `<!-- test: A => B; ... -->`
  before a block replaces A by B (fewer epochs, less data); `<!-- test: skip ... -->` skips it."""
  for match in FENCE.finditer(page.read_text()):
    code, test = match["code"], match["test"] or ""
    if test.startswith("skip"):
      continue
    for rule in filter(None, (r.strip() for r in test.split(";"))):
      old, new = (part.strip() for part in rule.split("=>"))
      assert old in code, f"{page.name}: {old!r} is not in the block it should shorten"
      code = code.replace(old, new)
    yield code


@pytest.mark.parametrize("page", [p for p in PAGES if list(blocks(p))], ids=lambda p: p.name)
def test_every_python_block_runs(page, tmp_path, monkeypatch):
  """The blocks of a page run in order in one namespace, in a fresh folder, as a reader would."""
  monkeypatch.chdir(tmp_path)
  namespace: dict = {}
  for code in blocks(page):
    exec(compile(code, str(page), "exec"), namespace)  # noqa: S102  (our own docs' code)


def test_the_public_names_the_docs_list_are_jaxnets_all():
  text = (REPO / "docs" / "library.md").read_text()
  listed = text.split("<!-- public names -->")[1].split("<!-- end public names -->")[0]
  assert sorted(re.findall(r"`(\w+)`", listed)) == sorted(jn.__all__)


def test_readme_is_a_newcomers_ten_minutes():
  assert len((REPO / "README.md").read_bytes()) <= 12_000


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves(page):
  for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
    if not target.startswith(("http://", "https://")):
      assert os.path.exists(page.parent / target), f"{page.name} links to missing {target}"
