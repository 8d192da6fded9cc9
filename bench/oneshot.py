#!/usr/bin/env python3
"""`kindscope diagnose` against the raw transfer of its five lists, at the churn bench's sizes,
with an older binary measured alternately in the same run (docs/performance.md).

    python3 bench/oneshot.py --bin NEW --examples DIR [--before OLD] [--sizes small,medium]

For each size: starts `kindscope sim serve --synthetic SPEC --plain-http`, waits until its pods
settle, then runs REPS rounds of (raw transfer, diagnose of each binary) one after another and
prints medians: diagnose wall time / raw transfer, and peak RSS (/usr/bin/time -v, else /proc
polling) / bytes of the five lists.
"""

import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench import Sim, client, peak_rss_kib, timed  # noqa: E402
from churn import SIZES, pods_of  # noqa: E402


def measure(args, size):
    spec = SIZES[size]
    bins = [("before", args.before)] if args.before else []
    bins.append(("after", args.bin))
    with tempfile.TemporaryDirectory(prefix="kindscope-oneshot-") as work:
        sim = Sim(args.bin, spec, work)
        try:
            settle = client(args, "settle", sim.url, str(pods_of(spec)), "900")
            print(f"\n== {size}: {spec} ({settle['pods']} pods)", flush=True)
            raw, walls, rss = [], {n: [] for n, _ in bins}, {n: [] for n, _ in bins}
            nbytes = 0
            for name, binary in bins:  # warm up each once
                timed([binary, "diagnose", "--kubeconfig", sim.kubeconfig, "--runtime", "none"])
            for _ in range(args.reps):
                r = client(args, "fetch", sim.url, "1")
                raw.append(r["ms"] / 1000)
                nbytes = r["bytes"]
                for name, binary in bins:
                    cmd = [binary, "diagnose", "--kubeconfig", sim.kubeconfig, "--runtime", "none"]
                    walls[name].append(timed(cmd)[0])
            for _ in range(args.rss_reps):
                for name, binary in bins:
                    cmd = [binary, "diagnose", "--kubeconfig", sim.kubeconfig, "--runtime", "none"]
                    rss[name].append(peak_rss_kib(cmd)[0])
            raw_s = statistics.median(raw)
            print(f"  raw transfer of the 5 lists: {raw_s * 1000:.0f} ms, {nbytes / 2**20:.1f} MiB"
                  f" (runs {[round(x * 1000) for x in raw]})")
            for name, _ in bins:
                d = statistics.median(walls[name])
                k = statistics.median(rss[name])
                print(f"  diagnose {name:<6}: {d * 1000:.0f} ms = {d / raw_s:.2f}x raw "
                      f"(runs {[round(x * 1000) for x in walls[name]]}); peak RSS "
                      f"{k / 1024:.1f} MiB = {k * 1024 / nbytes:.2f}x bytes read", flush=True)
        finally:
            sim.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bin", required=True)
    p.add_argument("--examples", required=True)
    p.add_argument("--before")
    p.add_argument("--sizes", default="small,medium")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--rss-reps", type=int, default=3)
    args = p.parse_args()
    for size in args.sizes.split(","):
        measure(args, size)


if __name__ == "__main__":
    main()
