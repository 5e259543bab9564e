#!/usr/bin/env node
'use strict';
// The declarations of the native addon, written by napi-rs: while the addon
// compiles, its #[napi] macros describe each exported item (its TypeScript
// shape and the Rust doc comments) into target/napi-types/heapscope
// (NAPI_TYPE_DEF_TMP_FOLDER, set by scripts/build.js). This turns that
// description into native.d.ts, which index.d.ts builds the public types on:
// a result shape is defined once, in Rust.
//
//   node scripts/native-types.js           write native.d.ts
//   node scripts/native-types.js --check   exit 1 when native.d.ts is not what the source declares

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const root = path.resolve(__dirname, '..');
/** Where scripts/build.js has the macros write. */
const TYPE_DEF_DIR = path.join(root, 'target', 'napi-types');
const TYPE_DEF_FILE = path.join(TYPE_DEF_DIR, 'heapscope');
const OUTPUT = path.join(root, 'native.d.ts');

const HEADER = `// The native addon's declarations, written by scripts/native-types.js from
// what napi-rs' macros say of the Rust source. Do not edit: change the Rust
// item (its doc comments become these) and run \`npm run build && npm run types\`.
// The public API, index.d.ts, is built on these.
`;

const indent = (text) =>
  text
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');

/** One declaration per exported item, by name: classes take their impl's members. */
function render(text) {
  const items = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, at) => {
      try {
        return JSON.parse(line);
      } catch (e) {
        throw new Error(`${TYPE_DEF_FILE}:${at + 1}: not napi-rs type data: ${e.message}`);
      }
    });
  const members = new Map();
  for (const item of items.filter((i) => i.kind === 'impl')) {
    members.set(item.name, [members.get(item.name), item.def].filter(Boolean).join('\n'));
  }
  const blocks = [];
  for (const item of items) {
    const doc = item.js_doc || '';
    switch (item.kind) {
      case 'impl':
        continue;
      case 'struct':
        blocks.push([item.name, `${doc}export declare class ${item.name} {\n${indent(members.get(item.name) || '')}\n}`]);
        break;
      case 'interface':
        blocks.push([item.name, `${doc}export interface ${item.name} {\n${indent(item.def)}\n}`]);
        break;
      case 'fn':
        blocks.push([item.name, `${doc}export declare ${item.def}`]);
        break;
      case 'type':
        blocks.push([item.name, `${doc}export type ${item.name} = ${item.def}`]);
        break;
      case 'enum':
      case 'string_enum':
        blocks.push([item.name, `${doc}export declare enum ${item.name} {\n${indent(item.def)}\n}`]);
        break;
      default:
        throw new Error(`${TYPE_DEF_FILE}: an item of kind ${item.kind} (${item.name}) this script does not know`);
    }
  }
  // By name, not by the order the compiler happened to expand the macros in.
  blocks.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${HEADER}\n${blocks.map(([, block]) => block).join('\n\n')}\n`;
}

/** native.d.ts as the last build's macros describe it. */
function generated() {
  if (!fs.existsSync(TYPE_DEF_FILE)) {
    throw new Error(`${TYPE_DEF_FILE} is missing: build the addon first (npm run build)`);
  }
  return render(fs.readFileSync(TYPE_DEF_FILE, 'utf8'));
}

function main(argv) {
  const { values } = parseArgs({ args: argv, options: { check: { type: 'boolean' } } });
  const text = generated();
  if (values.check) {
    const current = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : '';
    if (current !== text) {
      process.stderr.write('heapscope: native.d.ts differs from the Rust source; run `npm run types`\n');
      process.exit(1);
    }
    return;
  }
  fs.writeFileSync(OUTPUT, text);
  process.stdout.write(`heapscope: wrote ${path.relative(process.cwd(), OUTPUT)}\n`);
}

module.exports = { TYPE_DEF_DIR, OUTPUT, generated };

if (require.main === module) main(process.argv.slice(2));
