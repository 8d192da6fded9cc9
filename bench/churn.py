#!/usr/bin/env python3
"""The churn run (docs/performance.md): the dashboard while the cluster changes.

For each size and rate, starts `kindscope sim serve --synthetic SPEC`, waits until its pods
settle, attaches each dashboard in a pseudo-terminal (examples/bench_dashboard churn), changes
RATE pods a second for SECONDS, and prints the dashboard's CPU, RSS and key-to-frame p95 during
the churn, every figure also as a ratio to the first peer (the same run, the same cluster):

    bench/run.sh churn                                   # small and medium, 5 and 50 changes/s
    bench/run.sh churn --before OLD_KINDSCOPE            # and an older build side by side
    bench/run.sh churn --kdash ~/kdash/bin/kdash --sizes small,medium,big

kdash is the peer when installed (on PATH, or --kdash). It is never built by the bench; to
build it outside this repository: `cargo install kdash --version 2.1.1 --root ~/kdash`.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import Sim, client, machine  # noqa: E402

SIZES = {
    # 517 pods with the system ones.
    "small": "nodes=10,deployments=100,replicas=5,images-per-node=30,events=2000",
    # 5,107 pods.
    "medium": "nodes=50,deployments=1000,replicas=5,images-per-node=100,events=20000",
    # 20,207 pods, 4,000 Deployments, 100 nodes.
    "big": "nodes=100,deployments=4000,replicas=5,images-per-node=100,events=80000",
}


def pods_of(spec):
    n = 1
    for part in spec.split(","):
        k, _, v = part.partition("=")
        if k in ("deployments", "replicas"):
            n *= int(v)
    return n


def run_one(args, dashboard, sim, rate):
    tool = os.path.join(args.examples, "bench_dashboard")
    out = subprocess.run([tool, "churn", dashboard, sim.kubeconfig, sim.url, str(rate),
                          str(args.seconds), str(args.samples)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[:300]}
    return json.loads(out.stdout)


def ratio(a, b):
    if not b or b != b or a != a:
        return "—"
    return f"{a / b:.2f}x"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True, help="kindscope under test (serves the sim too)")
    p.add_argument("--examples", required=True)
    p.add_argument("--before", help="another kindscope build to run side by side")
    p.add_argument("--kdash", default=shutil.which("kdash"))
    p.add_argument("--sizes", default="small,medium")
    p.add_argument("--rates", default="5,50")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--samples", type=int, default=30)
    args = p.parse_args()
    peers = [("kindscope", args.bin)]
    if args.before:
        peers.append(("before", args.before))
    if args.kdash:
        peers.append(("kdash", args.kdash))
    print(f"kindscope churn bench; machine: {machine()}")
    if not args.kdash:
        print("  kdash: skipped (not installed). To compare, build it outside this repository:"
              " `cargo install kdash --version 2.1.1 --root ~/kdash`, then pass --kdash"
              " ~/kdash/bin/kdash")
    results = []
    for size in args.sizes.split(","):
        spec = SIZES[size]
        pods = pods_of(spec)
        with tempfile.TemporaryDirectory(prefix="kindscope-churn-") as work:
            sim = Sim(args.bin, spec, work)
            try:
                settle = client(args, "settle", sim.url, str(pods), "900")
                print(f"\n== {size}: {spec} ({settle['pods']} pods), settled in "
                      f"{sim.ready_s + settle['s']:.1f} s", flush=True)
                for rate in [float(r) for r in args.rates.split(",")]:
                    for name, binary in peers:
                        r = run_one(args, binary, sim, rate)
                        results.append((size, rate, name, r))
                        if "error" in r:
                            print(f"  {rate:>4.0f}/s {name:<10} FAILED: {r['error']}", flush=True)
                            continue
                        base = next((x[3] for x in results
                                     if x[0] == size and x[1] == rate and "error" not in x[3]), r)
                        k = r["key_ms"]
                        print(f"  {rate:>4.0f}/s {name:<10} CPU {r['cpu_pct']:6.2f}% "
                              f"({ratio(r['cpu_pct'], base['cpu_pct'])})  "
                              f"key p50/p95 {k['p50']:6.1f}/{k['p95']:7.1f} ms "
                              f"({ratio(k['p95'], base['key_ms']['p95'])})  "
                              f"RSS {r['rss_mib']:6.1f} MiB ({ratio(r['rss_mib'], base['rss_mib'])})  "
                              f"first frame {r['first_frame_ms']:6.0f} ms "
                              f"({ratio(r['first_frame_ms'], base['first_frame_ms'])})  "
                              f"{r['changes']} changes in {r['seconds']:.1f} s", flush=True)
            finally:
                sim.stop()
    print("\n(ratios: each dashboard against the first line of its size and rate)")


if __name__ == "__main__":
    main()
