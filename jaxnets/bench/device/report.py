"""The check's report: its summary lines (the end of the printout and of device-check.txt), a
line for the tests and for a speed row, and its plot (device-check.png)."""

import textwrap
from pathlib import Path

from jaxnets._files import write_png
from jaxnets.bench import timing
from jaxnets.bench.device import info


def tests_line(tests: dict) -> str:
  if not tests.get("ran"):
    return f"tests: not run: {tests.get('reason')}"
  c = tests["counts"]
  text = ", ".join(f"{v} {k}" for k, v in c.items()) or "no outcome"
  extra = " (stopped at the time cap)" if tests["stopped_at_cap"] else ""
  where = f" ({tests['pytest']})" if tests.get("pytest") else ""
  return f"tests: {text} in {tests['seconds']:.0f} s{extra}{where}"


def format_row(row: dict) -> str:
  """One row: each implementation's median seconds per epoch, then the ratios."""
  cells = []
  for e in row["entries"]:
    mark = "" if e["whole_epochs"] else "*"
    cells.append(f"{e['impl']} {timing.format_seconds(e['epoch_s']['median'])}{mark}")
  ratios = [f"{k} {v['median']:.2f}" for k, v in row["ratios"].items()]
  return f"{row['sizes']} b{row['batch_size']}: " + ", ".join(cells + ratios) + " (s/epoch)"


def summary_lines(report: dict) -> list[str]:
  """The report in a few lines, for the end of the printout."""
  parts = report["parts"]
  lines = ["", "device check: " + report["device"]]
  env = parts.get("env", {})
  if "device" in env:
    lines += info.summary(env)
  if "tests" in parts:
    lines.append(tests_line(parts["tests"]))
  for r in parts.get("book", {}).get("runs", []):
    if r["epochs"]:
      diff = r.get("test_accuracy_diff_vs_cpu")
      vs = (
        f", {100 * diff:+.2f} points vs the CPU at epoch {r['compared_epochs']}"
        if diff is not None
        else ""
      )
      p = r.get("first_epoch_max_param_diff_vs_cpu")
      pd = f", params after epoch 1 within {p:.2g} of the CPU's" if p is not None else ""
      lines.append(
        f"book ({r['label']}): {r['epochs']} epochs, final {r['final_test_accuracy']:.2%}, best "
        f"{r['best_test_accuracy']:.2%}, {r['seconds_per_epoch']:.3f} s/epoch{vs}{pd}"
      )
  speed = parts.get("speed", {})
  for row in speed.get("rows", []):
    lines.append("speed " + format_row(row))
  if speed.get("torch_compile"):
    lines.append(f"torch.compile: {speed['torch_compile']}")
  rule = speed.get("blocks_rule")
  if rule and rule["nets"]:
    lines.append(
      "blocks on this device: "
      + ", ".join(f"{n['sizes']} plain÷blocks {n['plain_over_blocks']:.2f}" for n in rule["nets"])
      + f"; blocks from {rule['suggested_min_layer_weights']} weights (CPU rule: "
      f"{rule['current_min_layer_weights']})"
    )
  for row in parts.get("populations", {}).get("rows", [])[1:]:
    lines.append(
      f"population M = {row['members']} {row['shuffle']}: "
      f"{row['network_epochs_per_s']['median']:.1f} network-epochs/s "
      f"(× one network {row['vs_one_network']['median']:.1f})"
    )
  fit = parts.get("fit", {})
  if fit.get("tries") is not None:
    lines.append(
      f"largest M that fits: {fit.get('largest_members_run')} run (estimate "
      f"{fit.get('estimate_members')}, {(fit.get('free_bytes') or 0) / 1e9:.1f} GB free)"
    )
  for name, error in report["errors"].items():
    lines.append(f"part {name} failed: {error}")
  lines.append(f"the check took {report['wall_s']:.0f} s")
  return lines


def plot(report: dict, path: Path) -> None:
  """Speed (seconds per epoch per row and implementation), populations (network-epochs/s
  against M), the book's test accuracy per epoch, and the tests' count."""
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  parts = report["parts"]
  fig, axes = plt.subplots(2, 2, figsize=(13, 9))
  ax = axes[0][0]
  rows = parts.get("speed", {}).get("rows", [])
  impls = []
  for row in rows:
    for e in row["entries"]:
      if e["impl"] not in impls:
        impls.append(e["impl"])
  width = 0.8 / max(1, len(impls))
  for k, impl in enumerate(impls):
    xs, ys = [], []
    for i, row in enumerate(rows):
      for e in row["entries"]:
        if e["impl"] == impl:
          xs.append(i + k * width)
          ys.append(e["epoch_s"]["median"])
    ax.bar(xs, ys, width, label=impl)
  ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))])
  ax.set_xticklabels([f"{r['sizes']}\nb{r['batch_size']}" for r in rows], fontsize=6)
  ax.set(yscale="log", ylabel="seconds per epoch", title="speed (lower is faster)")
  if impls:
    ax.legend(fontsize=7)
  ax = axes[0][1]
  pops = parts.get("populations", {}).get("rows", [])
  for shuffle in ("shared", "per-member"):
    line = [r for r in pops if r.get("shuffle") == shuffle]
    if line:
      ax.plot([r["members"] for r in line],
              [r["network_epochs_per_s"]["median"] for r in line], "o-", label=shuffle)  # fmt: skip
  if pops:
    ax.axhline(pops[0]["network_epochs_per_s"]["median"], ls="--", c="k", label="one network")
    ax.legend(fontsize=7)
  ax.set(xscale="log", yscale="log", xlabel="members M", ylabel="network-epochs / s",
         title="populations of [784, 30, 10], mini-batch 10")  # fmt: skip
  members = sorted({r["members"] for r in pops})
  if members:
    ax.set_xticks(members, [str(m) for m in members])
    ax.minorticks_off()
  ax = axes[1][0]
  for r in parts.get("book", {}).get("runs", []):
    if r["test_accuracy"]:
      ax.plot(range(1, r["epochs"] + 1), r["test_accuracy"], "o-", ms=3, label=r["label"])
  ax.set(xlabel="epoch", ylabel="test accuracy", title="the book's run, seed 0")
  if parts.get("book", {}).get("runs"):
    ax.legend(fontsize=7)
  ax = axes[1][1]
  ax.axis("off")
  shown = [x for x in summary_lines(report)[1:] if not x.startswith(("speed ", "population M"))]
  ax.text(0, 1, "\n".join(textwrap.fill(x, 95, subsequent_indent="  ") for x in shown),
          va="top", family="monospace", fontsize=6.5)  # fmt: skip
  env = parts.get("env", {}).get("device", {})
  fig.suptitle(f"jaxnets device check: {report['device']} ({env.get('device_kind', '?')})")
  fig.tight_layout()
  write_png(path, fig)
  plt.close(fig)
