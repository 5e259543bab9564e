#!/usr/bin/env bash
# Every test: the Rust core (cargo test), the addon's specs on this Node, then
# the same specs on each supported Node major (scripts/node-matrix.sh).
# HEAPSCOPE_MATRIX=0 skips the other majors (quick local runs).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (heapscope-core)"
cargo test -p heapscope-core --release

echo "== fuzz the snapshot reader (${HEAPSCOPE_FUZZ_SECONDS:-20} s)"
bash scripts/fuzz.sh "${HEAPSCOPE_FUZZ_SECONDS:-20}"

echo "== node $(node --version): build and specs"
node scripts/build.js
node --test --test-concurrency=1 __test__/*.test.js

if [ "${HEAPSCOPE_MATRIX:-1}" != "0" ]; then
  bash scripts/node-matrix.sh
fi
