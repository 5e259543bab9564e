#!/usr/bin/env node
'use strict';
// npm's install hook: keep a prebuilt binary when one matches this Node's ABI,
// otherwise build from source (Rust + this Node's headers).

const fs = require('node:fs');
const path = require('node:path');
const { triple, abi, binaryName } = require('./platform');

const root = path.resolve(__dirname, '..');
const prebuilt = [path.join(root, 'npm', triple, binaryName)];
try {
  prebuilt.unshift(path.join(path.dirname(require.resolve(`heapscope-${triple}/package.json`)), binaryName));
} catch {
  // no per-platform package installed
}

for (const file of prebuilt) {
  if (!fs.existsSync(file)) continue;
  try {
    if (require(file).nodeModuleVersion() === abi) {
      process.stdout.write(`heapscope: using prebuilt ${path.relative(root, file)}\n`);
      process.exit(0);
    }
  } catch {
    // unloadable: build instead
  }
}
require('./build');
