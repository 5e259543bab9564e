#!/usr/bin/env bash
# Fuzzes the snapshot reader and the analysis for a bounded time:
#   bash scripts/fuzz.sh [seconds]   (default 60)
# Seeds: a small built-in snapshot and a real one of an idle Node process,
# made now in a temporary directory. Built with the `fuzzing` feature (64-byte
# read buffers, files split from 64 bytes): each input is also read from a file
# on two threads and must give the same graph or error. A failing input lands
# in fuzz-failures/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
seed_dir="$(mktemp -d)"
trap 'rm -rf "$seed_dir"' EXIT
node -e "require('v8').writeHeapSnapshot(process.argv[1])" "$seed_dir/idle.heapsnapshot"
cargo build --release -q -p heapscope-core --example fuzz --features fuzzing
half=$(( (seconds + 1) / 2 ))
# Half the time on tiny inputs (fast, deep), half mixing in the real one.
./target/release/examples/fuzz --seconds "$half" --seed "${HEAPSCOPE_FUZZ_SEED:-$RANDOM}"
./target/release/examples/fuzz --seconds "$half" --seed "${HEAPSCOPE_FUZZ_SEED:-$RANDOM}" "$seed_dir/idle.heapsnapshot"
