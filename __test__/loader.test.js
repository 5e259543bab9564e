'use strict';
// The loader: one addon for every Node, the V8 shim checked before use.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { root, scratch, runNode, runNodeJson } = require('./helpers');
const { addonName, shimName } = require('../lib/platform');
const { buildShim, findHeaders } = require('../scripts/build-shim');

/** A copy of the package's JS in `dir`, with the binaries named in `binaries`. */
function copyPackage(dir, binaries = []) {
  for (const f of ['index.js', 'lib']) {
    fs.cpSync(path.join(root, f), path.join(dir, f), { recursive: true });
  }
  for (const [from, to] of binaries) fs.copyFileSync(from, path.join(dir, to));
}

test('the loader explains what is missing when there is no addon for this platform', (t) => {
  const dir = scratch(t);
  copyPackage(dir);
  const r = runNode(`require(${JSON.stringify(dir)})`);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ERR_HEAPSCOPE_NO_BINARY/);
  assert.match(r.stderr, new RegExp(`no native addon for ${process.platform}-${process.arch}`));
  assert.match(r.stderr, /--build-from-source/);
});

test('a shim built for another Node ABI is refused with its reason, and capture falls back', (t) => {
  const dir = scratch(t);
  // Headers that claim another ABI: the shim builds and binds to this node,
  // so only the ABI check can refuse it.
  const headers = path.join(dir, 'include');
  fs.cpSync(findHeaders(), headers, { recursive: true });
  const versionH = path.join(headers, 'node_version.h');
  const other = 999;
  fs.writeFileSync(
    versionH,
    fs.readFileSync(versionH, 'utf8').replace(/#define NODE_MODULE_VERSION \d+/, `#define NODE_MODULE_VERSION ${other}`),
  );
  const forged = buildShim({ include: headers, out: path.join(dir, 'forged.so'), quiet: true });
  const pkg = path.join(dir, 'pkg');
  fs.mkdirSync(path.join(pkg, 'scripts'), { recursive: true });
  copyPackage(pkg, [
    [path.join(root, addonName()), addonName()],
    [forged, shimName()],
  ]);
  const { value, stderr } = runNodeJson(
    `
    const h = require(${JSON.stringify(pkg)});
    console.log(JSON.stringify({ shim: h.versions.shim, ok: h.writeSnapshot(${JSON.stringify(path.join(dir, 'x.heapsnapshot'))}) }));
  `,
  );
  assert.equal(value.shim, null);
  assert.equal(value.ok, true, 'the fallback wrote the snapshot');
  assert.match(stderr, new RegExp(`built for Node ABI ${other}, this Node is ABI ${process.versions.modules}`));
});

test('the same addon file loads the shim of this Node, and versions say which', () => {
  const { value } = runNodeJson(`console.log(JSON.stringify(heapscope.versions));`);
  assert.equal(value.v8, process.versions.v8);
  assert.equal(value.abi, Number(process.versions.modules));
  assert.equal(path.basename(value.shim), shimName());
});
