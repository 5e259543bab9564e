#!/usr/bin/env bash
# Every test: formatting and lints, the Rust core (cargo test, a bounded
# fuzz run), the addon's specs on this Node and on each supported Node major,
# then the package a user installs: `npm run package`, its binaries' checks,
# and an install of the tarball with no Rust and no C/C++ compiler on PATH on
# Node 20, 22, 24 and 26, on x64 and (under qemu-user) arm64.
#   HEAPSCOPE_MATRIX=0   skips the other Node majors' specs
#   HEAPSCOPE_PACKAGE=0  skips packaging and the install tests
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check, cargo clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

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

if [ "${HEAPSCOPE_PACKAGE:-1}" != "0" ]; then
  echo "== npm run package"
  tarball="$(node scripts/package.js | tail -n 1)"
  echo "== the prebuilt binaries"
  node --test --test-concurrency=1 __test__/package/*.test.js
  echo "== install $(basename "$tarball") as a user would (x64)"
  node scripts/install-test.js "$tarball" --majors 20,22,24,26
  echo "== install $(basename "$tarball") as a user would (arm64, under qemu-user)"
  node scripts/install-test.js "$tarball" --arch arm64 --majors "${HEAPSCOPE_ARM64_MAJORS:-20,22,24,26}"
fi
