#!/usr/bin/env python3
"""Soak: churn the simulated cluster and watch the memory of the sim and of the dashboard.

    python3 bench/soak.py --bin target/release/kindscope                # 30 simulated minutes
    python3 bench/soak.py --bin target/debug/kindscope --sim-minutes 10  # smaller

Starts `kindscope sim serve --synthetic SPEC --speed SPEED`, attaches the dashboard (the real
binary in a pseudo-terminal) to it, and changes RATE objects per simulated second for
SIM_MINUTES simulated minutes: pod labels and Deployment annotations patched, and a set of
Events bumped as the kubelet's recorder does on every retry. Every SAMPLE simulated seconds it
prints the RSS of both processes; at the end, the curve's spread after the first 5 simulated
minutes (target: within 10% of its mean). Talks to the sim through `kubectl proxy`, so it
works whatever authentication the sim's kubeconfig uses. Needs python3 and kubectl.
"""

import argparse
import fcntl
import http.client
import json
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim(args, kubeconfig):
    p = subprocess.Popen([args.bin, "sim", "serve", "--synthetic", args.spec, "--speed",
                          str(args.speed), "--write-kubeconfig", kubeconfig],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if "serving" not in line:
        sys.exit(f"the sim did not start: {line!r}")
    return p


def start_proxy(kubeconfig):
    port = free_port()
    p = subprocess.Popen(["kubectl", "--kubeconfig", kubeconfig, "proxy", "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/version")
            if c.getresponse().status == 200:
                return p, port
        except OSError:
            time.sleep(0.1)
    sys.exit("kubectl proxy did not start")


def start_dashboard(args, kubeconfig):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(args.bin, [args.bin, "--kubeconfig", kubeconfig, "--runtime", "none"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    return pid, fd


def drain(fd):
    """Read whatever the dashboard drew (a terminal that never reads would block it)."""
    while select.select([fd], [], [], 0)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except OSError:
            return


class Api:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call(self, method, path, body=None, ctype="application/merge-patch+json"):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": ctype} if data else {}
        try:
            self.c.request(method, path, body=data, headers=headers)
            r = self.c.getresponse()
            return r.status, json.loads(r.read() or b"null")
        except (OSError, http.client.HTTPException, ValueError):
            self.c.close()
            return 0, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--spec", default="nodes=4,deployments=100,replicas=3,images-per-node=20,events=2000")
    ap.add_argument("--speed", type=float, default=10.0)
    ap.add_argument("--sim-minutes", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=20.0, help="changes per simulated second")
    ap.add_argument("--sample", type=float, default=30.0, help="simulated seconds between samples")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="kindscope-soak-")
    kubeconfig = os.path.join(tmp, "kubeconfig")
    sim = start_sim(args, kubeconfig)
    proxy, port = start_proxy(kubeconfig)
    dash_pid, dash_fd = start_dashboard(args, kubeconfig)
    api = Api(port)
    try:
        _, pods = api.call("GET", "/api/v1/pods?limit=500")
        _, deps = api.call("GET", "/apis/apps/v1/deployments")
        _, evs = api.call("GET", "/api/v1/events?limit=200")
        pods = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods["items"]]
        deps = [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in deps["items"]]
        evs = [(e["metadata"]["namespace"], e["metadata"]["name"], e.get("count", 1))
               for e in evs["items"]]
        print(f"# sim pid {sim.pid}, dashboard pid {dash_pid}; {len(pods)} pods, {len(deps)} "
              f"deployments, {len(evs)} events churned; speed {args.speed}, "
              f"{args.rate} changes per simulated second", flush=True)
        print("sim_s\tchanges\tsim_rss_mb\tdash_rss_mb\tfailed", flush=True)
        real_total = args.sim_minutes * 60 / args.speed
        gap = 1.0 / (args.rate * args.speed)
        start = time.monotonic()
        next_sample, n, failed, curve = 0.0, 0, 0, []
        while True:
            real = time.monotonic() - start
            sim_s = real * args.speed
            if sim_s >= next_sample:
                drain(dash_fd)
                row = (sim_s, n, rss_mb(sim.pid), rss_mb(dash_pid), failed)
                curve.append(row)
                print("%.0f\t%d\t%.1f\t%.1f\t%d" % row, flush=True)
                next_sample += args.sample
                if real >= real_total:
                    break
            # Catch up with the schedule: RATE changes per simulated second.
            while n < (time.monotonic() - start) / gap:
                kind = n % 4
                if kind < 2 and pods:
                    ns, name = pods[n % len(pods)]
                    code, _ = api.call("PATCH", f"/api/v1/namespaces/{ns}/pods/{name}",
                                       {"metadata": {"labels": {"soak": str(n % 1000)}}})
                elif kind == 2 and deps:
                    ns, name = deps[n % len(deps)]
                    code, _ = api.call("PATCH", f"/apis/apps/v1/namespaces/{ns}/deployments/{name}",
                                       {"metadata": {"annotations": {"soak": str(n)}}})
                else:
                    i = n % len(evs)
                    ns, name, count = evs[i]
                    evs[i] = (ns, name, count + 1)
                    code, _ = api.call("PATCH", f"/api/v1/namespaces/{ns}/events/{name}",
                                       {"count": count + 1})
                failed += code not in (200, 201)
                n += 1
            drain(dash_fd)
            time.sleep(min(gap, 0.02))
    finally:
        for pid in (dash_pid,):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        for p in (proxy, sim):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    settled = [r for r in curve if r[0] >= 300]
    for col, label in ((2, "sim"), (3, "dashboard")):
        vals = [r[col] for r in settled]
        if len(vals) < 2:
            print(f"{label}: too few samples after the first 5 simulated minutes")
            continue
        mean = sum(vals) / len(vals)
        spread = (max(vals) - min(vals)) / mean
        verdict = "PASS" if spread <= 0.10 else "MISS"
        print(f"{label}: RSS after 5 simulated minutes {min(vals):.1f}–{max(vals):.1f} MB, "
              f"spread {spread:.1%} of the mean {mean:.1f} MB (target <= 10%) {verdict}")


if __name__ == "__main__":
    main()
