"""Dashboard figures for bench/bench.py: runs examples/bench_dashboard (the real binary in a
pseudo-terminal, read back through a terminal emulator) and reports its figures."""

import json
import os
import subprocess


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
    row(f"CPU while idle ({d['idle_s']:.0f} s)", f"{cpu:.2f}% of a core", None,
        "<= 0.5% of a core", cpu <= 0.5)
    c = d["change_ms"]
    row("change-to-screen", f"p50 {c['p50']:.0f} ms", f"p95 {c['p95']:.0f} ms",
        "p95 <= 100 ms", c["p95"] <= 100)
    k = d["key_ms"]
    row("key-to-frame", f"p50 {k['p50']:.1f} ms", f"p95 {k['p95']:.1f} ms",
        "p95 <= 16 ms", k["p95"] <= 16)
