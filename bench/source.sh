#!/usr/bin/env bash
# Benchmark of the source search (docs/performance.md, "Source search"): generate a tree of
# FILES text files totalling about BYTES in a temporary directory, search it warm and cold with
# kindscope's search and with ripgrep (same tree, same literals, same run), print files per
# second and the ratio, then delete the tree.
#
#   bench/source.sh                        # 100,000 files, 1 GB
#   FILES=20000 BYTES=200000000 bench/source.sh
#   PROFILE=release bench/source.sh        # optimised build (slower to build)
#
# Cold runs drop the page cache (`echo 3 > /proc/sys/vm/drop_caches`), which needs root and a
# writable /proc/sys; otherwise they are reported as "not cold". Needs: cargo, python3, rg.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES="${FILES:-100000}"
BYTES="${BYTES:-1000000000}"
PROFILE="${PROFILE:-dev}"
target="${CARGO_TARGET_DIR:-target}"
if [ "$PROFILE" = release ]; then
    cargo build --release --quiet --example bench_source
    bin="$target/release/examples/bench_source"
else
    cargo build --quiet --example bench_source
    bin="$target/debug/examples/bench_source"
fi
command -v rg >/dev/null || { echo "ripgrep (rg) is needed: apt-get install -y ripgrep" >&2; exit 2; }
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
echo "generating $FILES files (~$BYTES bytes) in $tree ..." >&2
python3 - "$tree" "$FILES" "$BYTES" <<'PY'
import os, random, sys
root, files, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(7)
per = max(64, total // files)
words = ("func return package import err nil string struct yaml spec metadata name "
         "container port value config image build deploy test cluster node label").split()
line_pool = []
for _ in range(4096):
    n = random.randint(4, 14)
    line_pool.append("\t" * random.randint(0, 2) + " ".join(random.choice(words) for _ in range(n)) + "\n")
exts = [".go", ".yaml", ".py", ".md", ".txt", ".json", ".sh", ".rs"]
planted = {
    123: ("test/infrastructure/gateway_e2e.go",
          '\tk8sImageName := strings.TrimPrefix(gatewayImageName, "localhost/")\n'),
    4567: ("deploy/gateway.yaml", "          image: kubernaut/gateway:debug\n"),
    8910: ("chart/values.yaml", "image:\n  repository: kubernaut/gateway\n  tag: debug\n"),
}
for i in range(files):
    d = os.path.join(root, f"d{i // 100:04d}")
    os.makedirs(d, exist_ok=True)
    name = os.path.join(d, f"f{i:06d}{exts[i % len(exts)]}")
    body, size = [], 0
    while size < per:
        l = random.choice(line_pool)
        body.append(l)
        size += len(l)
    if i in planted:
        rel, text = planted[i]
        name = os.path.join(root, rel)
        os.makedirs(os.path.dirname(name), exist_ok=True)
        body.insert(len(body) // 2, text)
    with open(name, "w") as f:
        f.write("".join(body))
PY
du -sb "$tree" | awk '{printf "tree: %.0f MB\n", $1/1e6}' >&2
cold() {
    sync
    if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then echo cold; else echo "not cold (cannot drop caches)"; fi
}
pattern=(-e 'kubernaut/gateway:debug' -e 'kubernaut/gateway' -e 'localhost')
time_rg() {
    local t0 t1
    t0=$(date +%s.%N)
    rg --no-messages -F -c "${pattern[@]}" "$tree" > /dev/null || true
    t1=$(date +%s.%N)
    python3 -c "print(f'{$t1-$t0:.3f}')"
}
# Warm up the cache once so "warm" means warm for both.
"$bin" "$tree" kubernaut/gateway:debug localhost/kubernaut/gateway:debug > /dev/null
rg --no-messages -F -c "${pattern[@]}" "$tree" > /dev/null || true
ks_warm=$("$bin" "$tree" kubernaut/gateway:debug localhost/kubernaut/gateway:debug)
rg_warm=$(time_rg)
state_ks=$(cold)
ks_cold=$("$bin" "$tree" kubernaut/gateway:debug localhost/kubernaut/gateway:debug)
state_rg=$(cold)
rg_cold=$(time_rg)
python3 - "$FILES" "$ks_warm" "$rg_warm" "$ks_cold" "$rg_cold" "$state_ks" "$state_rg" "$PROFILE" <<'PY'
import json, sys
files = int(sys.argv[1])
kw, rw, kc, rc = json.loads(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4]), float(sys.argv[5])
print(f"profile: {sys.argv[8]}; cold kindscope: {sys.argv[6]}; cold rg: {sys.argv[7]}")
print(f"sources found: {kw['sources']} (planted: 3 lines)")
for label, k, r in (("warm", kw, rw), ("cold", kc, rc)):
    kf = k["files"] / k["seconds"]
    rf = files / r
    print(f"{label}: kindscope {k['files']} files in {k['seconds']:.2f} s = {kf:,.0f} files/s; "
          f"rg {r:.2f} s = {rf:,.0f} files/s; kindscope/rg time ratio {k['seconds']/r:.2f}")
PY
