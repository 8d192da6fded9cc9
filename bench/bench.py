#!/usr/bin/env python3
"""kindscope benchmark driver; run it through bench/run.sh (which builds release first).

Starts `kindscope sim serve --synthetic SPEC`, waits until its pods settle, then measures and
prints each figure with the ratio the issue asks for, the target and PASS/MISS. The dashboard
figures (bench/dashboard.py) are measured when the binary has a dashboard wired to the cluster.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SPEC = "nodes=50,deployments=1000,replicas=5,images-per-node=100,events=20000"
LISTS = "nodes,pods,deployments.apps,replicasets.apps,events"
ROWS = []


def row(name, figure, ratio=None, target=None, ok=None):
    """One result line: figure, ratio (when a comparison exists), target, PASS/MISS."""
    ROWS.append((name, figure, ratio or "", target or "", "" if ok is None else ("PASS" if ok else "MISS")))
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    print(f"  {name:<34} {figure:<22} {ratio or '':<26} {target or '':<22} {verdict}", flush=True)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


class Sim:
    """`kindscope sim serve` in the background; stopped with SIGTERM."""

    def __init__(self, binary, spec, workdir, extra=(), tls=False, scenario=None):
        name = "kubeconfig-tls" if tls else "kubeconfig"
        if scenario is not None:
            name = "kubeconfig-" + os.path.basename(scenario)
        self.kubeconfig = os.path.join(workdir, name)
        self.started = time.monotonic()
        # Plain HTTP: the bench's own client (examples/common/http.rs) speaks raw HTTP/1.1
        # so that no client library is in its figures; it sends the sim's bearer token.
        # kubectl needs the TLS one: client-go's clientcmd adds the kubeconfig's credentials
        # only when the server is https, so over plain HTTP it is refused (401).
        plain = [] if tls else ["--plain-http"]
        self.proc = subprocess.Popen(
            [binary, "sim", "serve",
             *(["--scenario", scenario] if scenario else ["--synthetic", spec]), "--port", "0", *plain,
             "--write-kubeconfig", self.kubeconfig, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"at (https?://127\.0\.0\.1:\d+)", line)
        if not m:
            self.stop()
            sys.exit(f"bench: the sim did not start (printed {line!r})")
        self.url = m.group(1)
        if tls:
            self.ready_s = time.monotonic() - self.started
            return
        with open(self.kubeconfig, encoding="utf-8") as f:
            token = re.search(r"^\s*token: \"?([0-9a-f]+)", f.read(), re.M)
        if not token:
            self.stop()
            sys.exit("bench: the sim's kubeconfig has no token")
        # Read by examples/common/http.rs in every bench client started from here.
        os.environ["KINDSCOPE_SIM_TOKEN"] = token.group(1)
        self.ready_s = time.monotonic() - self.started

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def client(args, *cmd):
    out = subprocess.run([os.path.join(args.examples, "bench_client"), *cmd],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"bench: bench_client {cmd[0]} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def timed(cmd, env=None, ok=(0, 1)):
    """Wall time (s) of one run; the command must exit with one of `ok` (diagnose: 0, or 1
    with findings)."""
    t = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, env=env, check=False)
    took = time.monotonic() - t
    if out.returncode not in ok:
        sys.exit(f"bench: {' '.join(cmd)} exited {out.returncode}: {out.stderr.decode()[:400]}")
    return took, out


def median_time(cmd, reps, env=None, ok=(0, 1)):
    return statistics.median(timed(cmd, env, ok)[0] for _ in range(reps))


def peak_rss_kib(cmd):
    """Peak resident memory of a command: /usr/bin/time -v when present, else /proc polling."""
    if os.path.exists("/usr/bin/time"):
        out = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                             check=False)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
        if m:
            return int(m.group(1)), "/usr/bin/time -v"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.005)
    return peak, "/proc/PID/status VmHWM polling"


def bench_cli(args, sim, tls_sim):
    print(f"\n== diagnose vs raw transfer vs kubectl ({args.reps} runs each, medians)")
    raw = client(args, "fetch", sim.url, str(args.reps))
    raw_s = raw["ms"] / 1000
    mib = raw["bytes"] / 2**20
    row("raw HTTP transfer (5 lists)", f"{raw_s * 1000:.0f} ms, {mib:.1f} MiB")

    diagnose = [args.bin, "diagnose", "--kubeconfig", sim.kubeconfig, "--runtime", "none"]
    timed(diagnose)  # warm the page cache and the sim's allocator
    d = median_time(diagnose, args.reps)
    ratio = d / raw_s
    # Issue 13's goals: at the transfer limit, in no more memory than the bytes read.
    row("diagnose wall time", f"{d * 1000:.0f} ms", f"{ratio:.2f}x raw transfer", "<= 1.1x raw",
        ratio <= 1.1)

    if tls_sim is not None:
        # The same synthetic cluster, served over HTTPS (see Sim); kubectl must succeed.
        kubectl = ["kubectl", "--kubeconfig", tls_sim.kubeconfig, "get", LISTS, "-A", "-o", "json"]
        k = median_time(kubectl, args.reps, ok=(0,))
        ratio = d / k
        row("kubectl get ... -o json", f"{k * 1000:.0f} ms", f"diagnose = {ratio:.2f}x kubectl",
            "<= 0.3x kubectl", ratio <= 0.3)
    else:
        row("kubectl get ... -o json", "skipped (no kubectl)")

    kib, how = peak_rss_kib(diagnose)
    ratio = kib * 1024 / raw["bytes"]
    row("diagnose peak memory", f"{kib / 1024:.0f} MiB", f"{ratio:.2f}x bytes read",
        "<= 1x bytes read", ratio <= 1.0)
    print(f"  (peak memory via {how})")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bin", required=True)
    p.add_argument("--examples", required=True)
    p.add_argument("--spec", default=os.environ.get("SPEC", SPEC))
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--idle", type=float, default=15.0, help="idle CPU window, seconds")
    p.add_argument("--samples", type=int, default=40, help="latency samples per figure")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-dashboard", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.reps, args.idle, args.samples = 2, 3.0, 10
    pods = 1
    for part in args.spec.split(","):
        k, _, v = part.partition("=")
        if k in ("deployments", "replicas"):
            pods *= int(v)

    print(f"kindscope bench: {args.spec} ({pods} pods)")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="kindscope-bench-") as work:
        sim = Sim(args.bin, args.spec, work)
        tls_sim = Sim(args.bin, args.spec, work, tls=True) if shutil.which("kubectl") else None
        try:
            row("sim ready (populated, serving)", f"{sim.ready_s:.2f} s")
            settle = client(args, "settle", sim.url, str(pods), "600")
            row("sim: all pods settled", f"{sim.ready_s + settle['s']:.2f} s",
                f"{settle['pods']} pods incl. system")
            if tls_sim is not None:
                # Served what the first one settled to: the same spec, settled in parallel.
                client_wait = settle["s"] - (time.monotonic() - tls_sim.started - tls_sim.ready_s)
                time.sleep(max(0.0, client_wait))
            bench_cli(args, sim, tls_sim)
            if tls_sim is not None:
                # Its kubelets keep retrying pulls: stopped before the dashboard is measured.
                tls_sim.stop()
            if not args.no_dashboard:
                import dashboard
                dashboard.bench(args, sim, row)
        finally:
            sim.stop()
            if tls_sim is not None:
                tls_sim.stop()
    misses = [r for r in ROWS if r[4] == "MISS"]
    print(f"\n{len([r for r in ROWS if r[4] == 'PASS'])} PASS, {len(misses)} MISS")


if __name__ == "__main__":
    main()
