#!/usr/bin/env python3
"""End-to-end tests of sweeps: expansion and checks, determinism across
thread counts, failed runs, kill -9 at several points and --resume, the
summary-only and thinned outputs, progress, the CSV script and (with
--mpirun) the MPI path.

Each check prints one line; the last line is 'N passed, N failed'.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

results = {"passed": 0, "failed": 0}

# Attributes that say how a file was made, not what it holds.
HOW_MADE = {"threads", "command_line", "wall_time_s", "mpi_ranks"}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(("ok     " if ok else "FAILED ") + name + (f": {detail}" if detail and not ok else ""), flush=True)
    return ok


def run(venosim, *args, cwd=None, timeout=600):
    return subprocess.run([venosim, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def write(path, content):
    with open(path, "w") as f:
        f.write(content)
    return path


def differences(a, b, skip_attrs=HOW_MADE):
    """Paths where two results files differ: datasets compared byte for
    byte, attributes by value (NaN equal to NaN), layouts by name."""
    out = []

    def same(x, y):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind == "O" or y.dtype.kind == "O":  # variable-length strings
            return x.shape == y.shape and x.tolist() == y.tolist()
        return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()

    def walk(ga, gb, path):
        if set(ga.attrs) != set(gb.attrs):
            out.append(path + " (attribute names)")
        for k in ga.attrs:
            if k in skip_attrs or k not in gb.attrs:
                continue
            if not same(ga.attrs[k], gb.attrs[k]):
                out.append(f"{path}@{k}")
        if isinstance(ga, h5py.Dataset):
            if not same(ga[()], gb[()]):
                out.append(path)
            return
        if set(ga.keys()) != set(gb.keys()):
            out.append(path + " (members)")
        for k in ga:
            if k in gb:
                walk(ga[k], gb[k], f"{path}/{k}")

    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        walk(fa, fb, "")
    return out


def summary(path):
    with h5py.File(path, "r") as f:
        s = f["summary"]
        return {k: s[k][()] for k in s}


# ---- cases -----------------------------------------------------------------

RC = """name: rc
description: an RC discharge, for sweeps
posture: {tilt_deg: 0}
solver: {t_end_s: 4, output_dt_s: 0.01}
compartments:
  - name: c
    p_init_mmhg: 20
    wall: {type: linear, compliance_ml_mmhg: 2}
boundaries:
  - {name: out, type: resistance, compartment: c, resistance_mmhg_s_ml: 1, pressure_mmhg: 0}
"""


def bigger_sweep(cases, tmp, samples):
    """The shipped sweep with more samples: long enough to be killed."""
    with open(os.path.join(cases, "sweep_uncertain_physiology.yaml")) as f:
        t = f.read()
    t = re.sub(r"samples: \d+", f"samples: {samples}", t)
    return write(os.path.join(tmp, "sweep_big.yaml"), t)


# ---- tests -------------------------------------------------------------------

def test_check_counts(venosim, cases, tmp):
    r = run(venosim, "check", os.path.join(cases, "sweep_uncertain_physiology.yaml"))
    check("check the shipped sweep: 60 runs (grid 3 x random 20)",
          r.returncode == 0 and "60 runs (grid 3 x random 20)" in r.stdout, r.stdout + r.stderr)
    sweeps = {
        "grid 2 x 3": ("  grid:\n"
                       "    - {input: 'compartments[c].wall.compliance_ml_mmhg', values: [1, 2]}\n"
                       "    - {input: 'boundaries[out].resistance_mmhg_s_ml', values: [1, 2, 3]}\n", 6),
        "zip of 4": ("  zip:\n"
                     "    - {input: 'compartments[c].p_init_mmhg', values: [10, 20, 30, 40]}\n"
                     "    - {input: solver.rtol, values: [1.0e-6, 1.0e-7, 1.0e-8, 1.0e-9]}\n", 4),
        "grid 2 x random 5": ("  grid:\n"
                              "    - {input: solver.max_order, values: [2, 5]}\n"
                              "  random: {samples: 5, inputs: [{input: 'compartments[c].p_init_mmhg', "
                              "min: 5, max: 25}]}\n", 10),
    }
    for label, (body, n) in sweeps.items():
        path = write(os.path.join(tmp, "count.yaml"), RC + "sweep:\n" + body)
        r = run(venosim, "check", path)
        check(f"check counts {label} = {n} runs", r.returncode == 0 and f" {n} runs" in r.stdout,
              r.stdout + r.stderr)
    r = run(venosim, "check", write(os.path.join(tmp, "one.yaml"), RC))
    check("check without a sweep: 1 run", r.returncode == 0 and ", 1 run" in r.stdout, r.stdout)


def test_bad_sweeps(venosim, tmp):
    line = RC.count("\n") + 1  # the 'sweep:' line
    bad = {
        "value out of range": ("  grid:\n    - {input: 'compartments[c].wall.compliance_ml_mmhg', values: [1, -2]}\n",
                               line + 2, "compartments[c].wall.compliance_ml_mmhg: value [1] -2 is out of the key's range"),
        "unknown key in the path": ("  grid:\n    - {input: 'compartments[c].wall.complance', values: [1]}\n",
                                    line + 2, "unknown key 'complance'"),
        "unknown item name": ("  grid:\n    - {input: 'compartments[calf].p_init_mmhg', values: [1]}\n",
                              line + 2, "no item of compartments is named 'calf'"),
        "wrong unit": ("  grid:\n    - {input: 'compartments[c].p_init_mmhg', values: [1], unit: kPa}\n",
                       line + 2, "unit 'kPa' does not match the key's unit 'mmHg'"),
        "max_runs": ("  max_runs: 10\n  random: {samples: 11, inputs: [{input: 'compartments[c].p_init_mmhg', "
                     "min: 1, max: 2}]}\n", line + 1, "expands to 11 runs"),
        "a run breaking a rule between keys": ("  grid:\n    - {input: solver.t_end_s, values: [4, 0.005]}\n",
                                               0, "run rc-0001 (solver.t_end_s = 0.005)"),
    }
    for label, (body, at, says) in bad.items():
        path = write(os.path.join(tmp, "bad_sweep.yaml"), RC + "sweep:\n" + body)
        out = os.path.join(tmp, "bad_sweep.h5")
        r = run(venosim, "run", path, "-o", out)
        ok = r.returncode == 1 and says in r.stderr
        if at:
            ok = ok and re.search(rf"bad_sweep\.yaml:{at}:\d+: ", r.stderr) is not None
        check(f"bad sweep, {label}: exit 1 at its line, naming the key", ok, f"exit {r.returncode}: {r.stderr}")
        check(f"bad sweep, {label}: nothing written",
              not os.path.exists(out) and not os.path.exists(out + ".parts"))


def test_determinism(venosim, cases, tmp):
    case = os.path.join(cases, "sweep_uncertain_physiology.yaml")
    a, b = os.path.join(tmp, "t1.h5"), os.path.join(tmp, "t2.h5")
    ra = run(venosim, "run", case, "-o", a, "--threads", "1")
    rb = run(venosim, "run", case, "-o", b, "--threads", "2")
    if not check("shipped sweep runs with 1 and 2 threads", ra.returncode == 0 and rb.returncode == 0,
                 ra.stderr + rb.stderr):
        return None
    d = differences(a, b)
    check("1 and 2 threads: every dataset bitwise identical", not d, ", ".join(d[:5]))
    with h5py.File(b, "r") as f:
        s = f["summary"]
        names = [text(n) for n in s["run_name"][()]]
        check("summary rows in run order, stable names",
              names == [f"sweep_uncertain_physiology-{i:04d}" for i in range(60)], str(names[:3]))
        cols = [text(c) for c in s.attrs["columns"]]
        want = ["run_name", "status", "message", "links[l05].stenosis.area_ratio", "wall_k_mmhg",
                "stenosis_kt", "stenosis_la_ls"]
        check("/summary columns: run_name, status, message, the inputs, then the metrics",
              cols[:7] == want and "pressure_peak" in cols[7:], str(cols[:8]))
        units = {c: text(s[c].attrs["unit"]) for c in want[3:]}
        check("input columns carry their units",
              units == {"links[l05].stenosis.area_ratio": "1", "wall_k_mmhg": "mmHg", "stenosis_kt": "1",
                        "stenosis_la_ls": "1"}, str(units))
        ar = s["links[l05].stenosis.area_ratio"][()]
        check("grid values in order, 20 samples each", list(ar) == [0.1] * 20 + [0.2] * 20 + [0.4] * 20)
        k = s["wall_k_mmhg"][()]
        strata = np.floor(np.log(k[:20] / 15) / np.log(10) * 20).astype(int)
        check("wall K: one Latin hypercube sample per stratum", sorted(strata) == list(range(20)), str(strata))
        check("the same sample for every grid value", np.array_equal(k[:20], k[20:40]))
        g = f["runs/sweep_uncertain_physiology-0007"]
        pcols = [text(c) for c in g["pressure_columns"][()]]
        check("each run holds its time series", g["pressure"].shape == (1001, len(pcols)))
        check("all 60 runs ok", all(text(x) == "ok" for x in s["status"][()]))
    return b


def test_failed_runs(venosim, tmp):
    body = ("  grid:\n"
            "    - {input: solver.max_steps, values: [100000, 10]}\n"
            "    - {input: 'compartments[c].p_init_mmhg', values: [10, 20]}\n")
    case = write(os.path.join(tmp, "failing.yaml"),
                 RC.replace("solver: {t_end_s: 4, output_dt_s: 0.01}",
                            "solver: {t_end_s: 100, output_dt_s: 100, rtol: 1.0e-10}") + "sweep:\n" + body)
    out = os.path.join(tmp, "failing.h5")
    r = run(venosim, "run", case, "-o", out, "--threads", "2")
    check("a sweep with failing runs exits 2", r.returncode == 2, f"{r.returncode} {r.stderr}")
    check("the failures are named on stderr", "run 'rc-0002' failed" in r.stderr, r.stderr)
    if not os.path.exists(out):
        check("the file is written", False)
        return
    with h5py.File(out, "r") as f:
        st = [text(x) for x in f["summary/status"][()]]
        msg = [text(x) for x in f["summary/message"][()]]
        check("failed runs recorded, the others complete", st == ["ok", "ok", "failed", "failed"], str(st))
        check("the failure's reason in /summary/message", msg[0] == "" and ("steps" in msg[2] or "CVODE" in msg[2]),
              str(msg))
        check("a failed run's group says why", text(f["runs/rc-0003"].attrs["status"]) == "failed")
        check("failed runs' metrics are NaN", np.isnan(f["summary/pressure_peak"][2]))


def read_progress(proc, lines, stop_after):
    """Reads JSONL progress until stop_after lines (None: the end)."""
    for raw in proc.stderr:
        raw = raw.strip()
        if raw.startswith("{"):
            lines.append(json.loads(raw))
            if stop_after is not None and len(lines) >= stop_after:
                return


def test_kill_and_resume(venosim, cases, tmp):
    case = bigger_sweep(cases, tmp, 40)  # 120 runs
    ref = os.path.join(tmp, "ref.h5")
    r = run(venosim, "run", case, "-o", ref, "--threads", "2")
    if not check("reference sweep (120 runs) completes", r.returncode == 0, r.stderr):
        return
    ref_sum = summary(ref)
    n = 120
    # Kill points: as soon as the file exists, after the first run, a third,
    # two thirds, and after the last run (during the final assembly).
    for k in (0, 1, 40, 80, n):
        out = os.path.join(tmp, f"killed{k}.h5")
        p = subprocess.Popen([venosim, "run", case, "-o", out, "--threads", "2", "--progress", "jsonl"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines = []
        if k == 0:
            deadline = time.time() + 30
            while not os.path.exists(out) and time.time() < deadline and p.poll() is None:
                time.sleep(0.001)
        else:
            read_progress(p, lines, k)
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stderr.close()
        label = f"kill -9 after {len(lines)} reported runs"
        if not check(f"{label}: the file exists", os.path.exists(out)):
            continue
        try:
            with h5py.File(out, "r") as f:
                s = f["summary"]
                st = [text(x) for x in s["status"][()]]
                names = [text(x) for x in s["run_name"][()]]
                reported = [l["index"] for l in lines]
                ok = all(st[i] == "ok" for i in reported)
                same = all(s[c][()][reported].tobytes() == ref_sum[c][reported].tobytes()
                           for c in s if s[c].dtype.kind == "f")
                held = [i for i in range(n) if st[i] == "ok"]
                series = all(np.array_equal(f["runs"][names[i]]["pressure"][()],
                                            h5py.File(ref, "r")["runs"][names[i]]["pressure"][()])
                             for i in held[:5])
            check(f"{label}: readable, holds every reported run ({len(held)} in the file)", ok, str(st))
            check(f"{label}: their summary rows and series are the uninterrupted ones", same and series)
        except OSError as e:
            check(f"{label}: readable", False, str(e))
            continue
        if k == 1:
            r = run(venosim, "run", case, "-o", out, "--threads", "2")
            check("rerun without --resume refuses (exit 1) and says --resume",
                  r.returncode == 1 and "--resume" in r.stderr, r.stderr)
        r = run(venosim, "run", case, "-o", out, "--threads", "2", "--resume", "--progress", "jsonl")
        m = re.search(r"(\d+) of 120 runs are done already, (\d+) to compute", r.stderr)
        computed = sum(1 for l in r.stderr.splitlines() if l.startswith("{"))
        ok = r.returncode == 0 and m is not None and int(m.group(1)) >= len(lines) and \
            int(m.group(2)) == computed and int(m.group(1)) + computed == n
        check(f"{label}: --resume computes only the missing runs "
              f"({m.group(2) if m else '?'} of 120)", ok, r.stderr[-400:])
        d = differences(ref, out)
        check(f"{label}: resumed file equals the uninterrupted one", not d, ", ".join(d[:5]))
        check(f"{label}: no parts left", not os.path.exists(out + ".parts"))
    # Kills at moments picked by the clock rather than by the progress.
    for delay in (0.05, 0.2, 0.5):
        out = os.path.join(tmp, f"killed_at_{delay}.h5")
        p = subprocess.Popen([venosim, "run", case, "-o", out, "--threads", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        label = f"kill -9 at {delay} s"
        if os.path.exists(out):  # else killed before anything was written
            try:
                with h5py.File(out, "r") as f:
                    held = sum(text(x) == "ok" for x in f["summary/status"][()])
                check(f"{label}: the file is readable ({held} runs in it)", True)
            except OSError as e:
                check(f"{label}: the file is readable", False, str(e))
        r = run(venosim, "run", case, "-o", out, "--threads", "2", "--resume")
        d = differences(ref, out) if r.returncode == 0 else ["exit %d" % r.returncode]
        check(f"{label}: --resume gives the uninterrupted file", not d, ", ".join(d[:5]) + r.stderr[-300:])
    # Resuming a complete file changes nothing.
    before = open(ref, "rb").read()
    r = run(venosim, "run", case, "-o", ref, "--resume")
    check("--resume of a complete file: nothing computed, file untouched",
          r.returncode == 0 and "120 of 120 runs are done already" in r.stderr and open(ref, "rb").read() == before,
          r.stderr)


def test_summary_only_and_decimate(venosim, cases, tmp, full):
    case = os.path.join(cases, "sweep_uncertain_physiology.yaml")
    out = os.path.join(tmp, "summary_only.h5")
    r = run(venosim, "run", case, "-o", out, "--summary-only")
    check("--summary-only runs", r.returncode == 0, r.stderr)
    with h5py.File(out, "r") as f, h5py.File(full, "r") as g:
        check("--summary-only: /runs is empty", len(f["runs"]) == 0)
        check("--summary-only: parameters say series none", text(f["parameters"].attrs["series"]) == "none")
        same = all(f["summary"][c][()].tobytes() == g["summary"][c][()].tobytes() for c in g["summary"])
        check("--summary-only: the same summary as the full run", same)
    out = os.path.join(tmp, "decimated.h5")
    r = run(venosim, "run", case, "-o", out, "--decimate", "10")
    check("--decimate 10 runs", r.returncode == 0, r.stderr)
    with h5py.File(out, "r") as f, h5py.File(full, "r") as g:
        a, b = f["runs/sweep_uncertain_physiology-0003"], g["runs/sweep_uncertain_physiology-0003"]
        check("--decimate 10: every 10th sample kept",
              np.array_equal(a["time"][()], b["time"][::10]) and np.array_equal(a["flow"][()], b["flow"][::10]))
        check("--decimate 10: parameters say so", text(f["parameters"].attrs["series"]) == "every 10th sample")


def test_progress(venosim, cases, tmp):
    case = os.path.join(cases, "sweep_uncertain_physiology.yaml")
    out = os.path.join(tmp, "progress.h5")
    r = run(venosim, "run", case, "-o", out, "--summary-only")
    check("no progress on stderr when it is not a terminal", r.stderr == "", r.stderr[:200])
    r = run(venosim, "run", case, "-o", out, "--summary-only", "--progress", "bar")
    check("--progress bar: a status line with done/total, failed, elapsed, remaining",
          re.search(r"\[60/60\] failed 0, elapsed [\d.]+ s, remaining [\d.]+ s", r.stderr) is not None,
          r.stderr[-200:])
    r = run(venosim, "run", case, "-o", out, "--summary-only", "--progress", "jsonl")
    try:
        lines = [json.loads(l) for l in r.stderr.splitlines() if l.strip()]
    except ValueError:
        lines = []
    keys = {"index", "run", "status", "done", "total", "failed", "wall_time_s", "elapsed_s"}
    check("--progress jsonl: one JSON object per run",
          len(lines) == 60 and all(keys <= set(l) for l in lines) and sorted(l["index"] for l in lines) == list(
              range(60)) and lines[-1]["done"] == 60, r.stderr[:300])


def test_csv(python, tools, tmp, full):
    script = os.path.join(tools, "venosim-summary-csv")
    out = os.path.join(tmp, "summary.csv")
    r = subprocess.run([python, script, full, "-o", out, "--units"], capture_output=True, text=True)
    if not check("venosim-summary-csv writes a CSV", r.returncode == 0 and os.path.exists(out), r.stderr):
        return
    import csv
    with open(out) as f:
        rows = list(csv.reader(f))
    head = rows[0]
    check("CSV header: the summary columns in order, with units",
          head[:5] == ["run_name", "status", "message", "links[l05].stenosis.area_ratio [1]", "wall_k_mmhg [mmHg]"]
          and "pressure_peak [mmHg]" in head, str(head[:6]))
    check("CSV: one row per run", len(rows) == 61)
    i = head.index("pressure_peak [mmHg]")
    with h5py.File(full, "r") as f:
        pk = f["summary/pressure_peak"][()]
    check("CSV values read back exactly", all(float(rows[k + 1][i]) == pk[k] for k in range(60)))


def test_mpi(venosim, cases, tmp, mpirun, full):
    case = os.path.join(cases, "sweep_uncertain_physiology.yaml")
    out = os.path.join(tmp, "mpi.h5")
    cmd = [mpirun, "-np", "2", "--allow-run-as-root", "--oversubscribe", venosim, "run", case, "-o", out,
           "--threads", "1"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if not check("mpirun -np 2 venosim run: exit 0", r.returncode == 0, r.stdout + r.stderr):
        return
    check("mpirun: reports 2 MPI ranks", "2 MPI ranks" in r.stdout, r.stdout)
    with h5py.File(out, "r") as f:
        check("mpirun: /parameters says 2 ranks", int(f["parameters"].attrs["mpi_ranks"]) == 2)
    d = differences(full, out)
    check("mpirun -np 2: the same file content as one process", not d, ", ".join(d[:5]))
    check("mpirun: no parts left", not os.path.exists(out + ".parts"))
    # A failing run under MPI: exit 2 from every rank.
    body = "  grid:\n    - {input: solver.max_steps, values: [100000, 10]}\n"
    bad = write(os.path.join(tmp, "mpi_failing.yaml"),
                RC.replace("solver: {t_end_s: 4, output_dt_s: 0.01}",
                           "solver: {t_end_s: 100, output_dt_s: 100, rtol: 1.0e-10}") + "sweep:\n" + body)
    out2 = os.path.join(tmp, "mpi_failing.h5")
    r = subprocess.run([mpirun, "-np", "2", "--allow-run-as-root", "--oversubscribe", venosim, "run", bad, "-o",
                        out2], capture_output=True, text=True, timeout=600)
    with h5py.File(out2, "r") as f:
        st = [text(x) for x in f["summary/status"][()]]
    check("mpirun with a failing run: exit 2, both runs recorded", r.returncode == 2 and st == ["ok", "failed"],
          f"{r.returncode} {st} {r.stderr[-300:]}")
    # Killed as one process, resumed by two.
    out3 = os.path.join(tmp, "mpi_resumed.h5")
    p = subprocess.Popen([venosim, "run", case, "-o", out3, "--threads", "1", "--progress", "jsonl"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    read_progress(p, lines, 20)
    p.send_signal(signal.SIGKILL)
    p.wait()
    p.stderr.close()
    r = subprocess.run([mpirun, "-np", "2", "--allow-run-as-root", "--oversubscribe", venosim, "run", case, "-o",
                        out3, "--threads", "1", "--resume"], capture_output=True, text=True, timeout=600)
    m = re.search(r"(\d+) of 60 runs are done already", r.stderr)
    d = differences(full, out3) if r.returncode == 0 else [f"exit {r.returncode}"]
    check("killed as one process, resumed under mpirun -np 2: the uninterrupted file",
          not d and m is not None and int(m.group(1)) >= len(lines), ", ".join(d[:5]) + r.stderr[-300:])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--venosim", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--mpirun", help="test the MPI path with this mpirun (the command must be built with MPI)")
    ap.add_argument("--only-mpi", action="store_true", help="only the MPI tests")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if a.only_mpi:
            full = os.path.join(tmp, "full.h5")
            r = run(a.venosim, "run", os.path.join(a.cases, "sweep_uncertain_physiology.yaml"), "-o", full)
            check("single-process reference", r.returncode == 0, r.stderr)
            test_mpi(a.venosim, a.cases, tmp, a.mpirun, full)
        else:
            test_check_counts(a.venosim, a.cases, tmp)
            test_bad_sweeps(a.venosim, tmp)
            full = test_determinism(a.venosim, a.cases, tmp)
            test_failed_runs(a.venosim, tmp)
            test_kill_and_resume(a.venosim, a.cases, tmp)
            if full:
                test_summary_only_and_decimate(a.venosim, a.cases, tmp, full)
                test_csv(sys.executable, a.tools, tmp, full)
            test_progress(a.venosim, a.cases, tmp)
            if a.mpirun and full:
                test_mpi(a.venosim, a.cases, tmp, a.mpirun, full)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
