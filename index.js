'use strict';
// Loader: picks the native binary built for this Node's ABI, then exposes the
// public API from lib/. N-API modules are not ABI-checked by Node, but this one
// links V8's C++ API, so a binary for another Node major is refused here
// instead of misbehaving later.

const fs = require('node:fs');
const path = require('node:path');
const { triple, abi, binaryName } = require('./scripts/platform');

function candidates() {
  const list = [];
  // A prebuilt: the per-platform package, installed or in this repository's npm/ folder.
  try {
    list.push(path.join(path.dirname(require.resolve(`heapscope-${triple}/package.json`)), binaryName));
  } catch {
    // not installed
  }
  list.push(path.join(__dirname, 'npm', triple, binaryName));
  // The local build of `npm install` / `npm run build`.
  list.push(path.join(__dirname, binaryName));
  return list;
}

function load() {
  const tried = [];
  for (const file of candidates()) {
    if (!fs.existsSync(file)) {
      tried.push(`  ${file}: not present`);
      continue;
    }
    let binding;
    try {
      binding = require(file);
    } catch (e) {
      tried.push(`  ${file}: failed to load: ${e.message}`);
      continue;
    }
    const builtFor = binding.nodeModuleVersion();
    if (builtFor !== abi) {
      tried.push(`  ${file}: built for ABI ${builtFor}, not ${abi}`);
      continue;
    }
    return binding;
  }
  const others = fs
    .readdirSync(__dirname)
    .filter((f) => f.startsWith(`heapscope.${triple}.abi`) && f.endsWith('.node'))
    .map((f) => f.slice(`heapscope.${triple}.`.length, -'.node'.length));
  const err = new Error(
    `heapscope: no native binary for Node ${process.version} (ABI ${abi}, ${triple}).\n` +
      `Looked for:\n${tried.join('\n')}\n` +
      (others.length ? `Binaries present are for other Node versions: ${others.join(', ')}.\n` : '') +
      'Build one for this Node with `npm rebuild heapscope` (or `npm run build` in a clone); it needs Rust ' +
      "(cargo), a C++ compiler and this Node's headers (<prefix>/include/node, or set HEAPSCOPE_NODE_INCLUDE).",
  );
  err.code = 'ERR_HEAPSCOPE_NO_BINARY';
  throw err;
}

module.exports = require('./lib')(load());
