#!/usr/bin/env python3
"""End-to-end tests of tools/venosim-plot.

Makes a small results file with the built venosim (the default leg through
a shortened protocol, a 2 x 3 grid: femoral valve competent or leaking,
three calf tissue pressures) and a summary-only random sweep, renders every
figure, and checks that each image exists and is not blank and that every
numeric axis is labelled with a unit. Then --help, the one-line errors
(missing file, run, column; no time series) and the diagram's copy of the
default leg against models/leg_anatomy.c.

Each check prints one line; the last line is 'N passed, N failed'.
"""
import argparse
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.category  # noqa: E402
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

results = {"passed": 0, "failed": 0}

GRID = """name: plots
description: >
  The default leg through a shortened protocol, six times: the femoral
  valve competent or leaking, three calf tissue pressures.
leg:
  valves:
    - {name: femoral_valve, m_rg: 0}
protocol: {standing_s: 60, tiptoe_refill_s: 30, recovery_s: 40}
sweep:
  grid:
    - {input: 'leg.valves[femoral_valve].m_rg', values: [0, 0.6], column: femoral_m_rg}
    - {input: leg.calf_tissue_standing_mmhg, values: [0, 8, 16], unit: mmHg, column: calf_tissue}
"""

RANDOM = """name: plots_random
description: >
  The default leg through a shortened protocol, a Latin hypercube of eight
  runs over two inputs (scattered, not on a grid).
protocol: {standing_s: 60, tiptoe_refill_s: 30, recovery_s: 40}
leg: {}
sweep:
  random:
    seed: 6
    samples: 8
    inputs:
      - {input: leg.wall_stiffness_scale, min: 0.5, max: 2, scale: log, column: wall_scale}
      - {input: leg.calf_tissue_standing_mmhg, min: 0, max: 16, unit: mmHg, column: calf_tissue}
"""
ARMS = """name: plots_arms
description: >
  A post-thrombotic iliac stenosis through a shortened protocol, untreated
  and stented, the stent's size swept (two sizes): treatment arms.
protocol: {standing_s: 60, tiptoe_refill_s: 30, recovery_s: 40}
leg:
  lesions:
    - {segment: common_iliac, area_ratio: 0.2, length_cm: 4}
arms:
  - name: stent
    treatments: [{kind: stent, segment: common_iliac, diameter_mm: 12, length_cm: 6}]
  - name: stockings
    treatments: [{kind: stockings}]
sweep:
  grid:
    - {input: 'arms[stent].treatments[0].diameter_mm', values: [12, 16], column: stent_diameter}
"""
PALMA = """name: plots_palma
description: >
  The external iliac vein occluded, untreated and with a Palma crossover
  graft, through a shortened protocol: links the default leg lacks or loses.
protocol: {standing_s: 60, tiptoe_refill_s: 30, recovery_s: 40}
leg:
  lesions:
    - {segment: external_iliac, kind: clot, occupied_fraction: 1, length_cm: 10}
arms:
  - {name: palma, treatments: [{kind: palma}]}
"""

# "name (unit)" at the end of a label; units may hold parentheses: 1/(mmHg s).
UNIT = re.compile(r"\((?:[^()]|\([^()]*\))+\)$")


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(("ok     " if ok else "FAILED ") + name + (f": {detail}" if detail and not ok else ""),
          flush=True)
    return ok


def load_tool(path):
    loader = importlib.machinery.SourceFileLoader("venosim_plot", path)
    spec = importlib.util.spec_from_loader("venosim_plot", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def axis_problems(fig):
    """Axes whose tick labels show numbers but whose label has no unit.
    Categorical axes (run or input names as ticks) need none."""
    problems = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            shown = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            if not axis.get_visible() or not shown:
                continue
            if isinstance(axis.converter, matplotlib.category.StrCategoryConverter):
                continue
            label = axis.get_label_text()
            if not UNIT.search(label):
                where = ax.get_title().splitlines()[0] if ax.get_title() else "an axes"
                problems.append(f"{where}: {axis.axis_name} label '{label}'")
    return problems


def render(tool, tmp, name, argv):
    """One figure through the tool's main(), then its image and axes."""
    out = os.path.join(tmp, re.sub(r"\W+", "_", name).strip("_") + ".png")
    try:
        fig = tool.main(argv + ["-o", out])
    except SystemExit as e:
        return check(f"{name}: drawn", False, f"exit {e.code}")
    try:
        ok = check(f"{name}: {os.path.basename(out)} written", os.path.getsize(out) > 0)
        if ok:
            rgb = matplotlib.image.imread(out)[..., :3]
            check(f"{name}: not blank", float(rgb.std()) > 0.05, f"pixel std {rgb.std():.4f}")
        problems = axis_problems(fig)
        check(f"{name}: every numeric axis labelled with a unit", not problems, "; ".join(problems))
        return fig
    finally:
        plt.close(fig)


def test_figures(tool, grid, rnd, tmp, arms=None, palma=None):
    fig = render(tool, tmp, "teaching", ["teaching", grid])
    if fig:
        texts = [t.get_text() for t in fig.legends[0].get_texts()] if fig.legends else []
        check("teaching: one legend entry per run, with AVP and RT90",
              sum(t.startswith("plots-000") and "AVP" in t and "RT90" in t for t in texts) == 6,
              str(texts))
    render(tool, tmp, "teaching, two runs and a window",
           ["teaching", grid, "--runs", "plots-0000,plots-0003", "--start", "200", "--end", "260"])
    fig = render(tool, tmp, "offloading", ["offloading", grid, "--baseline", "plots-0000"])
    if fig:
        labels = [t.get_text() for ax in fig.axes for t in ax.texts]
        check("offloading: the five other runs' differences labelled on each panel",
              len(labels) == 5 * len(fig.axes) and all(re.match(r"^([+-]\d|±0|n/a)", t) for t in labels),
              str(labels[:8]))
    render(tool, tmp, "stent sizing (against an input, one curve per another)",
           ["stent-sizing", grid, "--x", "calf_tissue", "--by", "femoral_m_rg"])
    render(tool, tmp, "sweep, one input", ["sweep", grid, "--metric", "avp_ankle", "--x", "calf_tissue"])
    fig = render(tool, tmp, "sweep, two inputs on a grid (heat map)",
                 ["sweep", grid, "--metric", "avp_ankle", "--x", "calf_tissue", "--y", "femoral_m_rg"])
    if fig:
        check("sweep on a grid: a heat map", any(ax.images for ax in fig.axes))
    fig = render(tool, tmp, "sweep, two scattered inputs",
                 ["sweep", rnd, "--metric", "avp_ankle", "--x", "calf_tissue", "--y", "wall_scale"])
    if fig:
        check("scattered sweep: coloured points", any(ax.collections for ax in fig.axes))
    render(tool, tmp, "tornado (regression)", ["tornado", rnd, "--metric", "avp_ankle"])
    render(tool, tmp, "tornado (rank correlation)",
           ["tornado", grid, "--metric", "refill_time_90", "--method", "spearman"])
    if arms:
        fig = render(tool, tmp, "offloading, arms: the baseline from /summary",
                     ["offloading", arms])
        if fig:
            labels = [t.get_text() for ax in fig.axes for t in ax.texts]
            check("offloading, arms: the first patient's two treated runs labelled",
                  len(labels) == 2 * len(fig.axes), str(labels[:6]))
        fig = render(tool, tmp, "stent sizing, one arm",
                     ["stent-sizing", arms, "--arm", "stent", "--x", "stent_diameter",
                      "--metrics", "lumen_diameter_treated,gradient_exercise"])
        if fig:
            xs = [list(line.get_xdata()) for ax in fig.axes for line in ax.lines]
            check("stent sizing, one arm: only the stented runs plotted",
                  all(sorted(x) == [12, 16] for x in xs), str(xs))
    if palma:
        fig = render(tool, tmp, "leg diagram of a treated leg",
                     ["leg", palma, "--runs", "plots_palma-untreated,plots_palma-palma",
                      "--time", "170"])
        if fig:
            texts = [[t.get_text() for t in ax.texts] for ax in fig.axes[:2]]
            check("leg diagram: the occluded link marked, from the file's network",
                  all("occluded" in t for t in texts), str(texts))
            check("leg diagram: the Palma graft drawn in the treated run only",
                  "palma graft" not in texts[0] and "palma graft" in texts[1], str(texts))
    # The teaching figure's site pressure is the metrics' own: the ankle's
    # cells weighed by their lengths, averaged over the last five steps.
    results_file = tool.Results(grid)
    run = results_file.run("plots-0000")
    t0, t1 = run.phase("walking_last5")
    window = (run.time >= t0 - 1e-9) & (run.time <= t1 + 1e-9)
    avp = float(run.segment_mean("gsv_ankle")[window].mean())
    check("site pressure: the length-weighted mean the metrics take",
          abs(avp - run.metric("avp_ankle")) < 1e-9 * abs(avp), f"{avp} vs {run.metric('avp_ankle')}")
    fig = render(tool, tmp, "leg diagram", ["leg", grid, "--runs", "plots-0000,plots-0003",
                                            "--time", "170"])
    if fig:
        markers = sum(len(line.get_xdata()) for ax in fig.axes for line in ax.lines
                      if line.get_marker() in ("^", "s", "v"))
        check("leg diagram: the ten valves marked in each of two panels", markers == 20,
              f"{markers} markers")


def test_valve_states(tool):
    area = 1.0  # cm^2: reflux is retrograde flow faster than 1 mL/s
    states = [tool.valve_state(1.0, 3.0, area), tool.valve_state(0.0, 0.0, area),
              tool.valve_state(0.0, -0.5, area), tool.valve_state(0.3, -2.0, area)]
    check("valve states: open, closed, closed (slow leak), refluxing",
          states == ["open", "closed", "closed", "refluxing"], str(states))


def test_cli(script, grid, summary_only, tmp):
    def run(*args):
        return subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                              timeout=120)

    for sub in ([], ["teaching"], ["offloading"], ["stent-sizing"], ["sweep"], ["tornado"], ["leg"]):
        r = run(*sub, "--help")
        check(f"venosim-plot {' '.join(sub)} --help", r.returncode == 0 and "usage:" in r.stdout,
              r.stderr)
    out = os.path.join(tmp, "err.png")
    missing = os.path.join(tmp, "nowhere.h5")
    errors = [
        ("a missing file", ["teaching", missing, "-o", out], "nowhere.h5"),
        ("an unknown run", ["teaching", grid, "--runs", "no_such_run", "-o", out], "'no_such_run'"),
        ("an unknown baseline", ["offloading", grid, "--baseline", "nobody", "-o", out], "'nobody'"),
        ("a missing column", ["sweep", grid, "--metric", "no_such_metric", "--x", "calf_tissue",
                              "-o", out], "'no_such_metric'"),
        ("a missing input column", ["stent-sizing", grid, "--x", "stent_diameter_mm", "-o", out],
         "'stent_diameter_mm'"),
        ("a run without time series", ["leg", summary_only, "--time", "10", "-o", out],
         "time series"),
        ("a time outside the run", ["leg", grid, "--runs", "plots-0000", "--time", "1e6", "-o", out],
         "--time"),
        ("bad usage", ["sweep", grid, "-o", out], "required"),
    ]
    for what, args, needle in errors:
        r = run(*args)
        lines = r.stderr.strip().splitlines()
        check(f"{what}: exit 1, one line naming it",
              r.returncode == 1 and needle in r.stderr and (len(lines) == 1 or what == "bad usage")
              and "Traceback" not in r.stderr, f"exit {r.returncode}: {r.stderr.strip()}")


def test_anatomy(tool, source):
    """The diagram's copy of the default leg is models/leg_anatomy.c's."""
    with open(os.path.join(source, "models", "leg_anatomy.c")) as f:
        c = f.read()
    num = r"\s*([-\d.]+)\s*,"
    segs = {m[0]: (m[1].lower(), float(m[2]), int(m[3]), float(m[4]), float(m[5]), m[6],
                   float(m[7]), m[8])
            for m in re.findall(r'\{"(\w+)",\s*VS_LEG_(\w+),' + num + num + r"\s*[-\d.]+\s*," + num + num
                                + r"(?:\s*[-\d.]+\s*,){6}\s*\"(\w*)\"," + num + r'\s*"(\w*)"', c)}
    conns = {m[0]: (m[1], float(m[2]), m[3], float(m[4]), float(m[5]), int(m[6]), m[7])
             for m in re.findall(r'\{"(\w+)",\s*"(\w+)",' + num + r'\s*"(\w+)",' + num + num + num
                                 + r"\s*[-\d.]+\s*,\s*[-\d.]+\s*,\s*\"(\w*)\"", c)}
    check("leg diagram: segments as in models/leg_anatomy.c", segs == tool.LEG_SEGMENTS,
          f"C: {segs}\nplot: {tool.LEG_SEGMENTS}")
    check("leg diagram: connections as in models/leg_anatomy.c", conns == tool.LEG_CONNECTIONS,
          f"C: {conns}\nplot: {tool.LEG_CONNECTIONS}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--venosim", required=True, help="the built venosim command")
    ap.add_argument("--source", required=True, help="the source tree (tools/, models/)")
    a = ap.parse_args()
    script = os.path.join(a.source, "tools", "venosim-plot")
    tool = load_tool(script)
    with tempfile.TemporaryDirectory() as tmp:
        grid, rnd = os.path.join(tmp, "grid.h5"), os.path.join(tmp, "random.h5")
        arms, palma = os.path.join(tmp, "arms.h5"), os.path.join(tmp, "palma.h5")
        for case, out, extra in ((GRID, grid, []), (RANDOM, rnd, ["--summary-only"]),
                                 (ARMS, arms, ["--summary-only"]), (PALMA, palma, [])):
            path = out.replace(".h5", ".yaml")
            with open(path, "w") as f:
                f.write(case)
            r = subprocess.run([a.venosim, "run", path, "-o", out, "--progress", "none", *extra],
                               capture_output=True, text=True, timeout=300)
            if not check(f"venosim run {os.path.basename(path)}", r.returncode == 0, r.stderr):
                break
        else:
            test_figures(tool, grid, rnd, tmp, arms, palma)
            test_cli(script, grid, rnd, tmp)
        test_valve_states(tool)
        test_anatomy(tool, a.source)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
