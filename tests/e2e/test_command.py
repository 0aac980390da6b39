#!/usr/bin/env python3
"""End-to-end tests of the venosim command.

Runs the built binary on the shipped cases and on the bad-input catalogue
and reads the results back with h5py, as a user would. Each check prints one
line; the last line is 'N passed, N failed'.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(("ok     " if ok else "FAILED ") + name + (f": {detail}" if detail and not ok else ""))
    return ok


def run(venosim, *args, cwd=None):
    return subprocess.run([venosim, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def expectations(path):
    """The '# expect:' and '# expect-line:' comments of a bad case."""
    expect, line = [], None
    with open(path, "rb") as f:
        head = f.read(4096).decode("utf-8", "replace")
    for text in head.splitlines():
        m = re.match(r"#\s*expect:\s*(.+)$", text)
        if m:
            expect.append(m.group(1).strip())
        m = re.match(r"#\s*expect-line:\s*(\d+)", text)
        if m:
            line = int(m.group(1))
    return expect, line


def units_everywhere(f):
    """Names of datasets that carry numbers but no unit attribute."""
    missing = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" and "unit" not in obj.attrs:
            missing.append(name)

    f.visititems(visit)
    return missing


def test_help_and_version(venosim):
    r = run(venosim, "--help")
    check("--help exits 0 and shows usage", r.returncode == 0 and "usage: venosim" in r.stdout)
    r = run(venosim, "--version")
    check("--version names venosim, SUNDIALS and HDF5",
          r.returncode == 0 and all(s in r.stdout for s in ("venosim", "SUNDIALS", "HDF5")), r.stdout)
    r = run(venosim, "run")
    check("run without a case exits 1", r.returncode == 1 and "missing the case file" in r.stderr, r.stderr)
    r = run(venosim, "frobnicate")
    check("unknown command exits 1", r.returncode == 1 and "unknown command" in r.stderr)
    r = run(venosim, "run", "x.yaml", "--threads", "zero")
    check("bad --threads exits 1", r.returncode == 1 and "--threads" in r.stderr)
    r = run(venosim, "schema")
    check("schema prints the case reference", r.returncode == 0 and "compliance_ml_mmhg" in r.stdout)


def test_good_cases(venosim, cases, tmp):
    for name in sorted(os.listdir(cases)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(cases, name)
        r = run(venosim, "check", path)
        check(f"check {name}", r.returncode == 0, r.stderr)
        with open(path) as f:
            check(f"{name} has a description", re.search(r"^description:", f.read(), re.M) is not None)


def test_rc_discharge_file(venosim, cases, tmp):
    case = os.path.join(cases, "rc_discharge.yaml")
    out = os.path.join(tmp, "rc.h5")
    r = run(venosim, "run", case, "-o", out, "--threads", "1", "--progress", "none")
    if not check("run rc_discharge.yaml exits 0", r.returncode == 0, r.stderr):
        return
    check("no parts folder left behind", not os.path.exists(out + ".parts"))
    with h5py.File(out, "r") as f:
        check("/h5md version 1.1", list(f["h5md"].attrs["version"]) == [1, 1])
        check("/h5md/creator names venosim", f["h5md/creator"].attrs["name"] in (b"venosim", "venosim"))
        params = f["parameters"].attrs
        for key in ("venosim_version", "git_commit", "sundials_version", "hdf5_version", "threads"):
            check(f"/parameters has {key}", key in params)
        text = f["parameters/case_file"][()]
        text = text.decode() if isinstance(text, bytes) else text
        with open(case) as c:
            check("/parameters/case_file is the case verbatim", text == c.read())
        check("/parameters/case_resolved present", "case_resolved" in f["parameters"])
        runs = list(f["runs"].keys())
        check("one run", len(runs) == 1, str(runs))
        g = f["runs"][runs[0]]
        status = g.attrs["status"]
        check("run status ok", status in (b"ok", "ok"), str(status))
        for ds in ("time", "pressure", "volume", "flow", "boundary_volume", "events"):
            check(f"run has {ds}", ds in g)
        check("solver statistics stored", "solver_stats" in g and "steps" in g["solver_stats"].attrs)
        check("every numeric dataset has a unit", not units_everywhere(f), str(units_everywhere(f)))
        t = g["time"][()]
        cols = [c.decode() if isinstance(c, bytes) else c for c in g["pressure_columns"][()]]
        p = g["pressure"][:, cols.index("c")]
        err = np.max(np.abs(p - 20.0 * np.exp(-t / 2.0)) / (20.0 * np.exp(-t / 2.0)))
        check("RC discharge within 1e-4 of 20 exp(-t/2)", err < 1e-4, f"{err:.3g}")
        s = f["summary"]
        check("/summary has run_name and status", "run_name" in s and "status" in s)
        check("/summary metrics carry units",
              all("unit" in s[k].attrs for k in s if s[k].dtype.kind == "f"))
        mb = s["mass_balance_error"][0]
        check("mass balance error recorded and tiny", abs(mb) < 1e-6, str(mb))


def test_failed_run(venosim, tmp):
    """A run CVODE cannot finish: exit 2, the file written, status failed."""
    case = os.path.join(tmp, "too_few_steps.yaml")
    with open(case, "w") as f:
        f.write("description: a run stopped by a step limit far too small\n"
                "solver: {t_end_s: 100, output_dt_s: 100, max_steps: 10, rtol: 1.0e-10}\n"
                "compartments:\n"
                "  - {name: c, p_init_mmhg: 20, wall: {type: linear, compliance_ml_mmhg: 2}}\n"
                "boundaries:\n"
                "  - {name: ground, type: pressure, pressure_mmhg: 0}\n"
                "links:\n"
                "  - {name: r, from: c, to: ground, resistance_mmhg_s_ml: 1}\n")
    out = os.path.join(tmp, "failed.h5")
    r = run(venosim, "run", case, "-o", out)
    check("failed run exits 2", r.returncode == 2, f"{r.returncode} {r.stderr}")
    check("failure reason on stderr", "failed" in r.stderr)
    if os.path.exists(out):
        with h5py.File(out, "r") as f:
            g = f["runs"]["too_few_steps"]
            check("failed run status stored", g.attrs["status"] in (b"failed", "failed"))
            msg = g.attrs["message"]
            msg = msg.decode() if isinstance(msg, bytes) else msg
            check("failed run message stored", "CVODE" in msg or "steps" in msg, msg)
    else:
        check("failed run still writes the file", False)


def test_bad_cases(venosim, bad, tmp):
    names = sorted(n for n in os.listdir(bad) if n.endswith(".yaml"))
    extra = []
    garbage = os.path.join(tmp, "garbage.yaml")
    with open(garbage, "wb") as f:
        f.write(bytes(range(256)) * 8)
    extra.append((garbage, ["garbage.yaml:"], None))
    extra.append((os.path.join(tmp, "does_not_exist.yaml"), ["cannot open"], None))
    entries = [(os.path.join(bad, n), *expectations(os.path.join(bad, n))) for n in names] + extra
    for path, expect, line in entries:
        out = os.path.join(tmp, "bad.h5")
        r = run(venosim, "run", path, "-o", out)
        name = os.path.basename(path)
        check(f"bad {name}: exit 1", r.returncode == 1, f"exit {r.returncode}: {r.stderr.strip()}")
        for e in expect:
            check(f"bad {name}: says '{e}'", e in r.stderr, r.stderr.strip())
        if line is not None:
            check(f"bad {name}: names line {line}",
                  re.search(rf"{re.escape(name)}:{line}:\d+: ", r.stderr) is not None, r.stderr.strip())
        check(f"bad {name}: nothing written",
              not os.path.exists(out) and not os.path.exists(out + ".parts"))


def test_demo(venosim, tmp):
    r = run(venosim, "--threads", "2", cwd=tmp)
    check("demo exits 0", r.returncode == 0, r.stderr)
    out = os.path.join(tmp, "venosim-demo.h5")
    if not check("demo writes venosim-demo.h5", os.path.exists(out)):
        return
    arms = ["healthy", "post_thrombotic", "balloon_14", "stent_12", "stent_14",
            "stent_16", "stockings"]
    with h5py.File(out, "r") as f:
        s = f["summary"]
        check("demo has 7 runs", len(f["runs"]) == 7)
        names = [n.decode() if isinstance(n, bytes) else n for n in s["run_name"][()]]
        check("demo runs in order", names == arms, str(names))
        avp = s["avp_ankle"][()]
        check("the post-thrombotic leg's AVP is far above the healthy one's",
              avp[1] > avp[0] + 30, str(avp))
        check("the AVP column carries its unit", s["avp_ankle"].attrs["unit"] in (b"mmHg", "mmHg"))
        base = [n.decode() for n in s["baseline"][()]]
        check("treatments are compared with the post-thrombotic leg",
              base == ["healthy"] + ["post_thrombotic"] * 6, str(base))
        rise = s["p_cfv_walk_rise"][()]
        off = s["offload_p_cfv_walk_rise"][()]
        check("offload = treated minus untreated",
              all(abs(off[i] - (rise[i] - rise[1])) < 1e-9 for i in range(1, 7)), str(off))
        check("every stent lowers the femoral pressure rise while walking",
              all(off[i] < -1.0 for i in (3, 4, 5)), str(off))
        lumen = s["lumen_diameter_treated"][()]
        check("a wider stent opens the lumen further",
              lumen[1] < lumen[3] < lumen[4] < lumen[5], str(lumen))
        check("stockings lower the transmural AVP",
              s["offload_avp_transmural"][6] < -10, str(s["offload_avp_transmural"][()]))
        # The fitted mesh's cells, as the file keeps them: each segment's
        # compartments add up to its length (the tibial veins, 35 cm).
        g = f["runs/healthy/network"]
        nodes = [n.decode() if isinstance(n, bytes) else n for n in g["node_name"][()]]
        length = g["node_length_cm"][()]
        tibial = [length[i] for i, n in enumerate(nodes) if re.fullmatch(r"tibial_\d+", n)]
        check("the file keeps each compartment's length of vein",
              len(tibial) > 2 and abs(sum(tibial) - 35.0) < 1e-9
              and g["node_length_cm"].attrs["unit"] in (b"cm", "cm"), str(tibial))
    check("demo prints a table", "avp_ankle" in r.stdout and "stent_16" in r.stdout)
    check("demo prints the offloading", "offloading" in r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--venosim", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--bad", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        test_help_and_version(a.venosim)
        test_good_cases(a.venosim, a.cases, tmp)
        test_rc_discharge_file(a.venosim, a.cases, tmp)
        test_failed_run(a.venosim, tmp)
        test_bad_cases(a.venosim, a.bad, tmp)
        test_demo(a.venosim, tmp)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
