#!/usr/bin/env node
'use strict';
// npm's install hook. From the registry nothing is compiled when the
// prebuilt binaries fit (prebuilds/<platform>/: the addon for every Node, a
// V8 shim per Node major). Otherwise, in this order:
// - no shim for this Node (a newer major): the shim alone is compiled with a
//   C++ compiler and this Node's headers, no Rust; without a compiler, one
//   line says what degrades (capture through Node's public APIs) and the
//   install succeeds;
// - `npm install --build-from-source` (or HEAPSCOPE_BUILD_FROM_SOURCE=1), and
//   a git checkout of heapscope itself: everything is built from source.

const fs = require('node:fs');
const path = require('node:path');
const { triple, abi, addonName, shimName } = require('../lib/platform');

const root = path.resolve(__dirname, '..');

function say(line) {
  process.stderr.write(`heapscope: ${line}\n`);
}

/** A git checkout of heapscope itself: its own `npm install` builds everything. */
const checkout = fs.existsSync(path.join(root, '.git'));

function fromSource() {
  const asked = process.env.npm_config_build_from_source;
  if (asked === 'true' || asked === 'heapscope') return true;
  return checkout || /^(1|true|yes)$/i.test(process.env.HEAPSCOPE_BUILD_FROM_SOURCE || '');
}

/** The addon in `dir`, loaded, or null. */
function addonIn(dir) {
  const file = path.join(dir, addonName());
  if (!fs.existsSync(file)) return null;
  try {
    return require(file);
  } catch (e) {
    say(`${file} does not load: ${e.message}`);
    return null;
  }
}

/** Whether the shim at `file` loads in this Node. */
function shimLoads(addon, file) {
  if (!fs.existsSync(file)) return false;
  try {
    addon.loadShim(file, abi);
    return true;
  } catch (e) {
    say(e.message);
    return false;
  }
}

function main() {
  if (fromSource()) {
    // Inside node_modules, no build directory is left behind.
    require('./build').main(checkout ? [] : ['--clean']);
    return;
  }
  const prebuilt = path.join(root, 'prebuilds', triple);
  const addon = addonIn(prebuilt);
  if (addon === null) {
    say(
      `no prebuilt binary for ${triple}. heapscope ships them for linux-x64-gnu, linux-arm64-gnu and ` +
        'linux-x64-musl; elsewhere install with `npm install heapscope --build-from-source` (needs Rust and a C++ compiler).',
    );
    process.exit(1);
  }
  if (shimLoads(addon, path.join(prebuilt, shimName()))) return;
  const { buildShim } = require('./build-shim');
  try {
    const built = buildShim({ quiet: true });
    if (shimLoads(addon, built)) {
      say(`built the V8 shim for Node ${process.version} (ABI ${abi})`);
      return;
    }
    fs.rmSync(built, { force: true });
    say(`the V8 shim built for Node ${process.version} does not load; capture will use Node's public APIs`);
  } catch (e) {
    say(
      `no prebuilt V8 shim for Node ${process.version} (ABI ${abi}), and ${e.message.split('\n')[0]}. heapscope works without it: ` +
        'capture goes through Node\'s public APIs; watch() thresholds, monitor() and session() need the shim (README, "Without a shim").',
    );
  }
}

main();
