"""Dashboard figures for bench/bench.py: runs examples/bench_dashboard (the real binary in a
pseudo-terminal, read back through a terminal emulator) and reports its figures.

Idle CPU is measured on a quiet cluster (assets/scenarios/healthy.yaml: every pod running,
nothing changing but the clock on screen). The synthetic cluster is never quiet: its ~1,000
broken pods retry their pulls with the kubelet's back-off (10 s doubling to 5 min), ~100 pod
and ~30 event updates a second right after it settles, fewer every minute; the CPU in that
window is reported as what it is, with no budget (the churn bench, bench/churn.py, holds the
budgets under change)."""

import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
QUIET = os.path.join(HERE, "..", "assets", "scenarios", "healthy.yaml")


def quiet_idle(args, row):
    from bench import Sim
    token = os.environ.get("KINDSCOPE_SIM_TOKEN")
    with tempfile.TemporaryDirectory(prefix="kindscope-quiet-") as work:
        sim = Sim(args.bin, None, work, scenario=QUIET)
        try:
            tool = os.path.join(args.examples, "bench_dashboard")
            out = subprocess.run([tool, args.bin, sim.kubeconfig, sim.url, "2", str(args.idle)],
                                 capture_output=True, text=True, check=False)
        finally:
            sim.stop()
            # The bench's own sim answers only to its own token (Sim set this one's).
            if token is not None:
                os.environ["KINDSCOPE_SIM_TOKEN"] = token
    if out.returncode != 0:
        row("CPU while idle (quiet cluster)", f"FAILED: {out.stderr.strip()[:300]}")
        return
    cpu = json.loads(out.stdout)["idle_cpu_pct"]
    row(f"CPU while idle, quiet ({args.idle:.0f} s)", f"{cpu:.2f}% of a core", None,
        "<= 0.3% of a core", cpu <= 0.3)


def bench(args, sim, row):
    print(f"\n== dashboard (kindscope attached to the sim, 160x50 terminal, "
          f"{args.samples} samples, idle {args.idle:.0f} s)", flush=True)
    tool = os.path.join(args.examples, "bench_dashboard")
    out = subprocess.run([tool, args.bin, sim.kubeconfig, sim.url, str(args.samples),
                          str(args.idle)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        row("dashboard", f"FAILED: {out.stderr.strip()[:300]}")
        return
    d = json.loads(out.stdout)
    row("time to first complete frame", f"{d['first_frame_ms']:.0f} ms")
    cpu = d["idle_cpu_pct"]
    row(f"CPU, no input, retry churn ({d['idle_s']:.0f} s)", f"{cpu:.2f}% of a core",
        "the cluster's own back-off")
    c = d["change_ms"]
    row("change-to-screen", f"p50 {c['p50']:.0f} ms", f"p95 {c['p95']:.0f} ms",
        "p95 <= 100 ms", c["p95"] <= 100)
    k = d["key_ms"]
    row("key-to-frame", f"p50 {k['p50']:.1f} ms", f"p95 {k['p95']:.1f} ms",
        "p95 <= 16 ms", k["p95"] <= 16)
    quiet_idle(args, row)
