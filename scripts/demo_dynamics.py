#!/usr/bin/env python3
"""What a demo bundle shows, measured with our own CLI; make_demo.py writes the captions from it.

    python3 scripts/demo_dynamics.py public/demo/toy-regression.npz [more bundles] [--json]

For every run, `node bin/svcca-lens.mjs dynamics BUNDLE --json --run RUN` (SVCCA, conv layers
through the DFT, reference = the last checkpoint); for the first two runs, `cross BUNDLE BUNDLE
--run-a A --run-b B` at the last step (SVCCA, and plain CCA for comparison). Reported:

- the learning-dynamics diagonal: similarity of each layer at each checkpoint to the same layer at
  the last checkpoint (the paper's Figure 4 diagonal, whose bottom-up convergence shows as lower
  layers reaching 1 first);
- the first checkpoint from which each layer stays at or above 0.9 (and 0.95);
- over every intermediate checkpoint (not the first, not the last) of every run, the pairs of
  hidden layers whose similarities differ by more than 0.005: how many have the lower layer
  closer to its final state. Counted twice: on the raw similarity s_t, and on the progress from
  initialisation (s_t - s_0) / (1 - s_0) (only where both layers start below 0.9), because lower
  layers, being nearer the input, usually start closer to their final state, which raw
  similarity alone would credit as early convergence;
- the snapshot checkpoint quoted in the caption: the intermediate one whose mean hidden-layer
  similarity is closest to halfway between its value at initialisation and 1;
- the similarity of the two runs layer by layer at the last step (the paper's Figure 1 question).

The output layer is reported but left out of the ordering: the loss fits it directly.
Needs only the standard library and node.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = (0.9, 0.95)
#: Similarities closer than this say nothing about which layer is ahead.
TIE = 0.005
#: Progress (s_t - s_0) / (1 - s_0) is only meaningful when a layer starts below this.
PROGRESS_START_BELOW = 0.9
#: Shares of ordered pairs that count as a clear bottom-up (or top-down) order.
CLEAR = 0.75


def cli(*args: str) -> dict:
    command = ["node", str(ROOT / "bin" / "svcca-lens.mjs"), *args, "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def first_step(steps: list[int], curve: list[float], threshold: float) -> int | None:
    """The first checkpoint from which the curve never drops below the threshold again."""
    if curve[-1] < threshold:
        return None
    t = len(curve) - 1
    while t > 0 and curve[t - 1] >= threshold:
        t -= 1
    return steps[t]


def count_pairs(values: list[float | None]) -> tuple[int, int]:
    """(pairs i < j with values[i] ahead of values[j], informative pairs): lower layer ahead = bottom-up."""
    ahead = total = 0
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            if values[i] is None or values[j] is None or abs(values[i] - values[j]) <= TIE:
                continue
            total += 1
            ahead += values[i] > values[j]
    return ahead, total


def read_manifest(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as archive:
        return json.loads(archive.read("manifest.json"))


def analyse(bundle: Path, runs: list[str] | None = None) -> dict:
    """Everything make_demo.py needs for a caption, as plain numbers."""
    manifest = read_manifest(bundle)
    runs = runs or manifest["runs"]
    conv_layers = [l["name"] for l in manifest["layers"] if "conv_layout" in l]
    per_run = {}
    results = {}
    for run in runs:
        results[run] = result = cli("dynamics", str(bundle), "--run", run)
        steps, layers, values = result["steps"], result["layers"], result["values"]
        diagonal = {layer: [values[t][i][i] for t in range(len(steps))] for i, layer in enumerate(layers)}
        per_run[run] = {
            "diagonal": diagonal,
            "first_at": {str(th): {l: first_step(steps, c, th) for l, c in diagonal.items()} for th in THRESHOLDS},
        }
    # A run stored at fewer checkpoints (the ResNet demo's seed1: its final one only) takes part in
    # the cross comparison but not in the counts over checkpoints.
    cross_runs = runs
    runs = [r for r in runs if len(results[r]["steps"]) == max(len(x["steps"]) for x in results.values())]
    per_run = {r: per_run[r] for r in runs}
    steps, layers = results[runs[0]]["steps"], results[runs[0]]["layers"]
    hidden = layers[:-1]
    middle = range(1, len(steps) - 1)

    # Conv layers (compared through the DFT) and dense layers (compared directly) are not on one
    # scale, so the conv layers are also counted among themselves.
    conv_hidden = [l for l in hidden if l in conv_layers]
    raw, progress, conv_raw, conv_progress = [0, 0], [0, 0], [0, 0], [0, 0]
    for r in runs:
        d = per_run[r]["diagonal"]
        for t in middle:
            a, n = count_pairs([d[l][t] for l in hidden])
            raw = [raw[0] + a, raw[1] + n]
            a, n = count_pairs([d[l][t] for l in conv_hidden])
            conv_raw = [conv_raw[0] + a, conv_raw[1] + n]
            a, n = count_pairs([(d[l][t] - d[l][0]) / (1 - d[l][0]) if d[l][0] < PROGRESS_START_BELOW else None for l in conv_hidden])
            conv_progress = [conv_progress[0] + a, conv_progress[1] + n]
            a, n = count_pairs([(d[l][t] - d[l][0]) / (1 - d[l][0]) if d[l][0] < PROGRESS_START_BELOW else None for l in hidden])
            progress = [progress[0] + a, progress[1] + n]

    def mean_hidden(t: int) -> float:
        return sum(per_run[r]["diagonal"][l][t] for r in runs for l in hidden) / (len(runs) * len(hidden))

    # Halfway: the intermediate checkpoint whose mean hidden-layer similarity is closest to halfway
    # between where it starts and 1.
    halfway = (mean_hidden(0) + 1) / 2
    snapshot = min(middle, key=lambda t: abs(mean_hidden(t) - halfway))

    cross = None
    if len(cross_runs) >= 2:
        svcca = cli("cross", str(bundle), str(bundle), "--run-a", cross_runs[0], "--run-b", cross_runs[1])
        cca = cli("cross", str(bundle), str(bundle), "--run-a", cross_runs[0], "--run-b", cross_runs[1], "--metric", "cca")
        cross = {
            "step": svcca["step"],
            "runs": cross_runs[:2],
            "svcca": {l: svcca["values"][i][i] for i, l in enumerate(svcca["layersA"])},
            "cca": {l: cca["values"][i][i] for i, l in enumerate(cca["layersA"])},
        }
    return {
        "bundle": str(bundle),
        "runs": runs,
        "steps": steps,
        "layers": layers,
        "per_run": per_run,
        "snapshot_step": steps[snapshot],
        "bottom_up_pairs_raw": raw,
        "bottom_up_pairs_progress": progress,
        "conv_layers": conv_hidden,
        "bottom_up_pairs_conv": conv_raw,
        "bottom_up_pairs_conv_progress": conv_progress,
        "cross": cross,
    }


def span(values: list[float]) -> str:
    lo, hi = f"{min(values):.2f}", f"{max(values):.2f}"
    return lo if lo == hi else f"{lo}-{hi}"


def verdict(a: dict) -> str:
    """'bottom-up', 'top-down', 'partly' (raw bottom-up, progress not), 'top-down-progress' (raw
    mixed, progress top-down) or 'unclear'."""
    (ra, rn), (pa, pn) = a["bottom_up_pairs_raw"], a["bottom_up_pairs_progress"]
    raw = ra / rn if rn else 0.5
    progress = pa / pn if pn else None
    if raw >= CLEAR and (progress is None or progress >= CLEAR):
        return "bottom-up"
    if raw >= CLEAR:
        return "partly"
    if raw <= 1 - CLEAR and (progress is None or progress <= 1 - CLEAR):
        return "top-down"
    if progress is not None and progress <= 1 - CLEAR:
        return "top-down-progress"
    return "unclear"


def convergence_sentence(a: dict) -> str:
    """Two honest sentences on bottom-up convergence, from analyse()'s numbers."""
    runs, layers = a["runs"], a["layers"]
    hidden = layers[:-1]
    snap = a["steps"].index(a["snapshot_step"])
    at = lambda t: ", ".join(f"{l} {span([a['per_run'][r]['diagonal'][l][t] for r in runs])}" for l in layers)  # noqa: E731
    (ra, rn), (pa, pn) = a["bottom_up_pairs_raw"], a["bottom_up_pairs_progress"]
    head = (
        f"Similarity (SVCCA) of each layer to its own final state, from svcca-lens dynamics: at step {a['snapshot_step']} "
        f"{at(snap)}; at initialisation {at(0)}."
    )
    counted = (
        f"over the intermediate checkpoints of both runs, {ra} of {rn} pairs of hidden layers ({', '.join(hidden)}; the output layer, "
        f"fitted directly by the loss, left out) have the lower layer closer to its final state"
    )
    progress = f"{pa} of {pn}" if pn else "no pair"
    kind = verdict(a)
    if kind == "bottom-up":
        tail = f"Bottom-up convergence is visible: {counted}, and {progress} measured as progress from initialisation."
    elif kind == "partly":
        tail = (
            f"Bottom-up convergence is only partly visible: {counted}, but lower layers also start closer; measured as "
            f"progress from initialisation, (s - s0) / (1 - s0), only {progress} are."
        )
    elif kind == "top-down":
        tail = f"Bottom-up convergence is not visible here; if anything the upper layers settle first: {counted}."
    elif kind == "top-down-progress":
        tail = (
            f"Bottom-up convergence is not visible here: {counted}, and measured as progress from initialisation, "
            f"(s - s0) / (1 - s0), the upper layers move first ({pn - pa} of {pn} pairs)."
        )
    else:
        tail = f"No clear bottom-up order here: {counted} ({progress} measured as progress from initialisation)."
    (ca, cn), (cpa, cpn) = a["bottom_up_pairs_conv"], a["bottom_up_pairs_conv_progress"]
    if cn and len(a["conv_layers"]) < len(hidden):
        tail += (
            f" Conv layers are compared through the DFT and dense layers directly, so the two kinds are not on one scale; "
            f"among the conv layers alone ({', '.join(a['conv_layers'])}), {ca} of {cn} pairs are ordered bottom-up"
        )
        if ca / cn >= CLEAR and cpn and cpa / cpn < CLEAR:
            tail += (
                f", but only {cpa} of {cpn} measured as progress from initialisation: the lower conv layers start closer to "
                f"their final state and keep that lead rather than converging faster."
            )
        else:
            tail += f" ({cpa} of {cpn} measured as progress from initialisation)."
    return f"{head} {tail}"


def cross_sentence(a: dict) -> str:
    c = a["cross"]
    if not c:
        return ""
    values = ", ".join(f"{l} {v:.2f}" for l, v in c["svcca"].items())
    return f"The two runs compared layer by layer at step {c['step']} (svcca-lens cross, SVCCA): {values}."


def report(a: dict) -> str:
    lines = [f"{a['bundle']}: runs {', '.join(a['runs'])}; steps {a['steps']}"]
    for r in a["runs"]:
        d = a["per_run"][r]
        lines.append(f"  {r}: similarity to the last checkpoint (dynamics diagonal)")
        lines.append("    step  " + "".join(f"{l:>9}" for l in a["layers"]))
        for t, s in enumerate(a["steps"]):
            lines.append(f"    {s:>5} " + "".join(f"{d['diagonal'][l][t]:9.3f}" for l in a["layers"]))
        for th in THRESHOLDS:
            lines.append(f"    first step staying >= {th}: " + ", ".join(f"{l} {v}" for l, v in d["first_at"][str(th)].items()))
    lines.append(
        f"  hidden-layer pairs with the lower layer ahead: raw {a['bottom_up_pairs_raw'][0]}/{a['bottom_up_pairs_raw'][1]}, "
        f"progress {a['bottom_up_pairs_progress'][0]}/{a['bottom_up_pairs_progress'][1]}, "
        f"conv layers only {a['bottom_up_pairs_conv'][0]}/{a['bottom_up_pairs_conv'][1]} "
        f"(progress {a['bottom_up_pairs_conv_progress'][0]}/{a['bottom_up_pairs_conv_progress'][1]}) -> {verdict(a)}; snapshot step {a['snapshot_step']}"
    )
    if a["cross"]:
        c = a["cross"]
        lines.append(f"  cross {c['runs'][0]} vs {c['runs'][1]} at step {c['step']}, SVCCA: " + ", ".join(f"{l} {v:.3f}" for l, v in c["svcca"].items()))
        lines.append("    plain CCA (no SVD step): " + ", ".join(f"{l} {v:.3f}" for l, v in c["cca"].items()))
    lines.append("  caption: " + convergence_sentence(a) + " " + cross_sentence(a))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Learning dynamics of demo bundles, measured with svcca-lens.")
    parser.add_argument("bundle", nargs="+")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    for path in args.bundle:
        a = analyse(Path(path))
        print(json.dumps(a, indent=1) if args.json else report(a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
