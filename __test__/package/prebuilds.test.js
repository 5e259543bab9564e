'use strict';
// The binaries `npm run package` put under prebuilds/ load wherever the
// official Node builds run: no glibc symbol newer than 2.28 (RHEL 8, Debian
// 10), the musl ones ask for no glibc at all, shims link nothing, every
// binary is stripped and of its platform's machine. Run after `npm run
// package` (scripts/test.sh does); HEAPSCOPE_PREBUILDS names another folder.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { PLATFORMS, NODE_MAJORS, addonName, shimName } = require('../../lib/platform');

const prebuilds = path.resolve(process.env.HEAPSCOPE_PREBUILDS || path.join(__dirname, '..', '..', 'prebuilds'));
const NEWEST_GLIBC = [2, 28];
const MACHINE = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };

function tool(name, args) {
  const r = spawnSync(name, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${name} ${args.join(' ')}: ${r.error ? r.error.message : r.stderr}`);
  return r.stdout;
}

/** The GLIBC_x.y versions a binary's dynamic symbols ask for. */
function glibcVersions(file) {
  const found = tool('objdump', ['-T', file]).match(/GLIBC_\d+(\.\d+)+/g) || [];
  return [...new Set(found)].map((v) => v.slice('GLIBC_'.length).split('.').map(Number));
}

const newer = (v, than) => v[0] > than[0] || (v[0] === than[0] && (v[1] ?? 0) > than[1]);

function needed(file) {
  return [...tool('readelf', ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

const binaries = [];
for (const [name, platform] of Object.entries(PLATFORMS)) {
  binaries.push({ name, platform, kind: 'addon', file: path.join(prebuilds, name, addonName(name)) });
  for (const abi of Object.values(NODE_MAJORS)) {
    binaries.push({ name, platform, kind: `shim ABI ${abi}`, file: path.join(prebuilds, name, shimName(name, abi)) });
  }
}

test('every platform has its addon and a shim for every supported Node major', () => {
  const missing = binaries.filter((b) => !fs.existsSync(b.file)).map((b) => path.relative(prebuilds, b.file));
  assert.deepEqual(missing, [], `missing from ${prebuilds} (run npm run package)`);
});

for (const b of binaries) {
  test(`${b.name} ${b.kind}: loads wherever official Node runs`, () => {
    const versions = glibcVersions(b.file);
    const deps = needed(b.file);
    if (b.platform.libc === 'glibc') {
      const tooNew = versions.filter((v) => newer(v, NEWEST_GLIBC)).map((v) => `GLIBC_${v.join('.')}`);
      assert.deepEqual(tooNew, [], `${b.file} needs glibc newer than ${NEWEST_GLIBC.join('.')}`);
    } else {
      assert.deepEqual(versions, [], `${b.file} is for musl but asks for glibc symbols`);
      assert.ok(!deps.some((d) => /^(libc\.so\.6|ld-linux|libpthread|libdl\.so\.2)/.test(d)), `${b.file} needs glibc: ${deps}`);
    }
    if (b.kind !== 'addon') assert.deepEqual(deps, [], `a shim links nothing; ${b.file} needs ${deps}`);
    const header = tool('readelf', ['-h', b.file]);
    assert.match(header, new RegExp(`Machine:\\s+${MACHINE[b.platform.cpu]}`));
    assert.doesNotMatch(tool('readelf', ['-S', b.file]), /\.symtab/, `${b.file} is not stripped`);
  });
}
