'use strict';
// node-heapdump's own tests, unmodified, against heapscope: its published
// package (heapdump@0.3.15 from the npm registry) with its entry point
// replaced, so that every test's `require('../')` is heapscope; its test
// dependencies (tap, shelljs) at the versions it declares.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { root, scratch } = require('./helpers');
const { npmPackage } = require('../scripts/fetch');

const HEAPDUMP = 'heapdump@0.3.15';

function suite(t) {
  const dir = path.join(scratch(t), 'heapdump');
  fs.cpSync(npmPackage(HEAPDUMP), dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  // Its entry point is heapscope; its native build is gone with it.
  fs.writeFileSync(path.join(dir, 'heapscope-entry.js'), `module.exports = require(${JSON.stringify(root)});\n`);
  manifest.main = 'heapscope-entry.js';
  delete manifest.dependencies;
  delete manifest.scripts;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  const deps = Object.entries(manifest.devDependencies).map(([name, range]) => `${name}@${range}`);
  const r = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', ...deps], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

test(`node-heapdump's test files (${HEAPDUMP}) pass against heapscope, unmodified`, (t) => {
  const dir = suite(t);
  const files = fs.readdirSync(path.join(dir, 'test')).filter((f) => /^test-.*\.js$/.test(f)).sort();
  assert.deepEqual(files, ['test-callback-error.js', 'test-callback-without-filename.js', 'test-callback.js', 'test-sigusr2.js']);
  for (const file of files) {
    const r = spawnSync(process.execPath, [path.join('test', file)], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${file}\n${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stdout, /^not ok/m, file);
  }
});
