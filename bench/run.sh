#!/usr/bin/env bash
# kindscope benchmark (docs/performance.md): builds release, starts a 5,000-pod simulated
# cluster and prints every figure with its ratio, target and PASS/MISS.
#
#   bench/run.sh                 # the issue's size
#   bench/run.sh --quick         # fewer repetitions, shorter idle window (smoke test)
#   SPEC=nodes=10,deployments=100,replicas=5,images-per-node=30,events=2000 bench/run.sh
#   bench/run.sh churn [--before OLD] [--sizes small,medium] # the dashboard under churn (churn.py)
#
# Needs: cargo, python3. Optional: kubectl (comparison), /usr/bin/time (peak memory; else
# /proc polling). Not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Absolute: the dashboard bench starts the binary in a pseudo-terminal, which does not look in
# the working directory.
target="$(realpath "${CARGO_TARGET_DIR:-target}")"
echo "building release (kindscope + bench examples) ..." >&2
cargo build --release --quiet --bin kindscope --examples
if [ "${1:-}" = churn ]; then
    shift
    exec python3 bench/churn.py --bin "$target/release/kindscope" \
        --examples "$target/release/examples" "$@"
fi
exec python3 bench/bench.py --bin "$target/release/kindscope" \
    --examples "$target/release/examples" "$@"
