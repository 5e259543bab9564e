#!/usr/bin/env node
'use strict';
// Builds heapscope from source for the Node running this script: the addon
// (Rust, napi-rs; one binary for every Node major) and the V8 shim for this
// Node's ABI (C++ against its headers). Both land beside index.js, where the
// loader looks after the platform package.
//
//   node scripts/build.js [--shim-only] [--clean]   (--clean: remove cargo's target/ afterwards)

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { triple, abi, addonName } = require('../lib/platform');
const { buildShim } = require('./build-shim');
const { TYPE_DEF_DIR } = require('./native-types');

const root = path.resolve(__dirname, '..');

function fail(message) {
  process.stderr.write(`heapscope: build failed: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

/** Copy then rename: a process that has the old binary loaded keeps its mapping. */
function install(built, dest) {
  fs.copyFileSync(built, `${dest}.tmp`);
  fs.renameSync(`${dest}.tmp`, dest);
}

function buildAddon() {
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail('Rust is needed to build heapscope from source: install it from rustup (cargo on PATH).');
  }
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail('a C compiler is needed to link the addon (Debian/Ubuntu: apt-get install gcc; Alpine: apk add gcc musl-dev).');
  }
  // The #[napi] macros describe every exported item here as they expand,
  // for scripts/native-types.js (always this folder, so no rebuild for it).
  fs.mkdirSync(TYPE_DEF_DIR, { recursive: true });
  run('cargo', ['build', '--release', '-p', 'heapscope'], { NAPI_TYPE_DEF_TMP_FOLDER: TYPE_DEF_DIR });
  const built = path.join(root, 'target', 'release', 'libheapscope.so');
  if (!fs.existsSync(built)) fail(`the build produced no ${built}`);
  const dest = path.join(root, addonName());
  install(built, dest);
  return dest;
}

function main(argv = []) {
  const { values } = parseArgs({ args: argv, options: { 'shim-only': { type: 'boolean' }, clean: { type: 'boolean' } } });
  const built = [];
  if (!values['shim-only']) built.push(buildAddon());
  try {
    built.push(buildShim());
  } catch (e) {
    fail(e.message);
  }
  // The binaries are beside index.js now; cargo's ~200 MB need not stay.
  if (values.clean) fs.rmSync(path.join(root, 'target'), { recursive: true, force: true });
  process.env.HEAPSCOPE_SIGNAL = 'off'; // this check needs no signal
  const heapscope = require(root);
  if (heapscope.versions.shim === null) fail(`the shim built for ABI ${abi} does not load in Node ${process.version}`);
  for (const file of built) process.stdout.write(`heapscope: built ${path.relative(process.cwd(), file) || file} (${triple})\n`);
  process.stdout.write(`heapscope: Node ${process.version}, V8 ${process.versions.v8}, shim loaded\n`);
}

module.exports = { main };

if (require.main === module) main(process.argv.slice(2));
