#!/usr/bin/env node
'use strict';
// Builds heapscope's V8 shim (src/v8/shim.cc) for one Node ABI: a C++
// compiler and that Node's headers, no Rust. Used by the install script when
// no prebuilt shim fits the running Node, by `npm run build`, and by the
// package script for every supported Node major and platform.
//
//   node scripts/build-shim.js [--include DIR] [--cxx CMD] [--out FILE]
//
// Headers: --include, else HEAPSCOPE_NODE_INCLUDE, else <prefix>/include/node
// of this Node, else npm's nodedir; the ABI they declare must match the target.
// Compiler: --cxx, else $CXX, else c++ / g++ / clang++ on PATH.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { triple, abi, shimName } = require('../lib/platform');

const root = path.resolve(__dirname, '..');
const SOURCE = path.join(root, 'src', 'v8', 'shim.cc');

class ShimBuildError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** NODE_MODULE_VERSION declared by the headers in `dir`, or null. */
function headerAbi(dir) {
  try {
    const m = /#define NODE_MODULE_VERSION (\d+)/.exec(fs.readFileSync(path.join(dir, 'node_version.h'), 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The include/node directory of headers for ABI `wanted`. */
function findHeaders(wanted = abi) {
  const candidates = [];
  if (process.env.HEAPSCOPE_NODE_INCLUDE) candidates.push(['HEAPSCOPE_NODE_INCLUDE', process.env.HEAPSCOPE_NODE_INCLUDE]);
  const prefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  candidates.push(['the running node', path.join(prefix, 'include', 'node')]);
  if (process.env.npm_config_nodedir) candidates.push(['npm nodedir', path.join(process.env.npm_config_nodedir, 'include', 'node')]);
  const tried = [];
  for (const [source, dir] of candidates) {
    const found = headerAbi(dir);
    if (found === wanted) return dir;
    tried.push(`  ${dir} (${source}): ${found === null ? 'no node_version.h' : `headers of ABI ${found}`}`);
  }
  throw new ShimBuildError(
    `no C++ headers of Node ABI ${wanted} found. Tried:\n${tried.join('\n')}\n` +
      'Official Node tarballs, nvm and the npm node-linux-<arch> packages ship include/node; ' +
      'or set HEAPSCOPE_NODE_INCLUDE to such a directory.',
    'ERR_HEAPSCOPE_NO_HEADERS',
  );
}

/** The first C++ compiler that answers `--version`, or null. */
function findCompiler() {
  const names = process.env.CXX ? [process.env.CXX] : ['c++', 'g++', 'clang++'];
  for (const name of names) {
    const [cmd, ...pre] = name.split(/\s+/);
    const r = spawnSync(cmd, [...pre, '--version'], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return [cmd, ...pre];
  }
  return null;
}

const NO_COMPILER =
  'no C++ compiler found to build the V8 shim for this Node: install one ' +
  '(Debian/Ubuntu: apt-get install g++; Alpine: apk add g++; RHEL/Fedora: dnf install gcc-c++) ' +
  'or set CXX';

/**
 * The defines node-gyp derives from config.gypi: without them the shim and
 * Node disagree on the layout of V8's objects.
 */
function v8Defines(includeDir) {
  let text = '';
  try {
    text = fs.readFileSync(path.join(includeDir, 'config.gypi'), 'utf8');
  } catch {
    // Headers without config.gypi: no pointer compression, no sandbox.
  }
  // Node <= 20 quotes keys with ', Node >= 22 with ".
  const enabled = (key) => {
    const m = new RegExp(`['"]${key}['"]\\s*:\\s*['"]?(\\w+)`).exec(text);
    return m !== null && (m[1] === '1' || m[1] === 'true');
  };
  const defines = new Set();
  if (enabled('v8_enable_pointer_compression')) {
    defines.add('V8_COMPRESS_POINTERS');
    defines.add('V8_31BIT_SMIS_ON_64BIT_ARCH');
  }
  if (enabled('v8_enable_pointer_compression_shared_cage')) defines.add('V8_COMPRESS_POINTERS_IN_SHARED_CAGE');
  if (enabled('v8_enable_31bit_smis_on_64bit_arch')) defines.add('V8_31BIT_SMIS_ON_64BIT_ARCH');
  if (enabled('v8_enable_sandbox')) defines.add('V8_ENABLE_SANDBOX');
  return [...defines].map((d) => `-D${d}=1`);
}

/**
 * Compiles the shim into `out` (temporary name, then rename). Returns `out`.
 * Throws ShimBuildError with code ERR_HEAPSCOPE_NO_COMPILER when there is none.
 */
function buildShim({ include, cxx, out, quiet = false } = {}) {
  include = include || findHeaders();
  const wanted = headerAbi(include);
  if (wanted === null) throw new ShimBuildError(`${include}: no node_version.h`, 'ERR_HEAPSCOPE_NO_HEADERS');
  const compiler = cxx ? cxx.split(/\s+/) : findCompiler();
  if (!compiler) throw new ShimBuildError(NO_COMPILER, 'ERR_HEAPSCOPE_NO_COMPILER');
  out = out || path.join(root, shimName(triple, wanted));
  const tmp = `${out}.${process.pid}.tmp`;
  const args = [
    ...compiler.slice(1),
    // Node 24+ headers refuse anything older than C++20; it compiles for 20/22 too.
    '-std=c++20',
    '-O2',
    '-fPIC',
    '-shared',
    // Only heapscope_v8_shim is exported.
    '-fvisibility=hidden',
    // Node is built without RTTI and exceptions: with RTTI the stream subclass
    // would need `typeinfo for v8::OutputStream`, which node does not export.
    '-fno-rtti',
    '-fno-exceptions',
    '-fno-stack-protector',
    '-Wno-unused-parameter',
    '-Wno-deprecated-declarations',
    ...v8Defines(include),
    '-I',
    include,
    SOURCE,
    // Link nothing: every symbol (V8, libuv, libc's malloc/free) binds to what
    // the node process already has, so the shim asks for no library version.
    '-nostdlib',
    '-s',
    '-o',
    tmp,
  ];
  const r = spawnSync(compiler[0], args, { stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const detail = r.error ? r.error.message : `exit code ${r.status}${quiet && r.stderr ? `\n${r.stderr.trim()}` : ''}`;
    throw new ShimBuildError(`compiling the V8 shim with ${compiler[0]} failed: ${detail}`, 'ERR_HEAPSCOPE_SHIM_BUILD');
  }
  fs.renameSync(tmp, out);
  return out;
}

module.exports = { buildShim, findHeaders, findCompiler, headerAbi, ShimBuildError };

if (require.main === module) {
  const { values } = parseArgs({
    options: { include: { type: 'string' }, cxx: { type: 'string' }, out: { type: 'string' } },
  });
  try {
    const out = buildShim(values);
    process.stdout.write(`heapscope: built ${path.relative(process.cwd(), out) || out}\n`);
  } catch (e) {
    process.stderr.write(`heapscope: ${e.message}\n`);
    process.exit(1);
  }
}
