'use strict';
// The native side, loaded once: the Node-API addon for this platform (one
// binary for every Node major), then the V8 shim for this Node's ABI, which
// the addon checks before using. Without a shim heapscope still works:
// capture goes through Node's public APIs (fallback.js), and reading
// snapshots never needed V8. Every other module takes `binding` from here.

const fs = require('node:fs');
const path = require('node:path');
const { triple, abi, addonName, shimName } = require('./platform');

/** The package's root, where a build from source puts its binaries. */
const ROOT = path.join(__dirname, '..');

/** Where binaries may be, in the order they are preferred. */
function places() {
  return [
    // A build from source (`npm run build`, `--build-from-source`), or a shim
    // compiled on install because no prebuilt one fits this Node.
    ROOT,
    // The prebuilt ones, shipped inside the package (`npm run package`).
    path.join(ROOT, 'prebuilds', triple),
  ];
}

function loadAddon() {
  const tried = [];
  for (const dir of places()) {
    const file = path.join(dir, addonName());
    if (!fs.existsSync(file)) {
      tried.push(`  ${file}: not present`);
      continue;
    }
    try {
      return { binding: require(file), file };
    } catch (e) {
      tried.push(`  ${file}: failed to load: ${e.message}`);
    }
  }
  const err = new Error(
    `heapscope: no native addon for ${triple}.\nLooked for:\n${tried.join('\n')}\n` +
      'heapscope ships prebuilt binaries for linux-x64-gnu, linux-arm64-gnu and linux-x64-musl; on another ' +
      'platform build from source with `npm rebuild heapscope --build-from-source` (needs Rust and a C++ compiler).',
  );
  err.code = 'ERR_HEAPSCOPE_NO_BINARY';
  throw err;
}

/**
 * The V8 shim for this Node: `{ path, v8Version }` when loaded, else
 * `{ path: null, problems }` saying what was tried. HEAPSCOPE_SHIM names a
 * file to use instead, or `off` to do without.
 */
function loadShim(binding) {
  const wanted = process.env.HEAPSCOPE_SHIM;
  if (wanted !== undefined && /^(0|off|none|false|no)$/i.test(wanted)) {
    return { path: null, problems: ['HEAPSCOPE_SHIM=off'] };
  }
  const files = wanted ? [path.resolve(wanted)] : places().map((dir) => path.join(dir, shimName()));
  const problems = [];
  for (const file of files) {
    if (!fs.existsSync(file)) {
      problems.push(`${file}: not present`);
      continue;
    }
    try {
      const loaded = binding.loadShim(file, abi);
      return { path: file, v8Version: loaded.v8Version, problems };
    } catch (e) {
      problems.push(e.message);
    }
  }
  return { path: null, problems };
}

const addon = loadAddon();
const shim = { ...loadShim(addon.binding), addonPath: addon.file };
/** What the rest of lib/ calls: the addon, or the addon with fallback.js' capture in front when there is no shim. */
const binding = shim.path ? addon.binding : Object.assign(Object.create(addon.binding), require('./fallback')(addon.binding, shim));

module.exports = { binding, shim };
