'use strict';
// Chrome DevTools' own heap snapshot worker (npm package chrome-devtools-frontend),
// run in Node as the reference for heapscope's numbers. The package ships
// TypeScript; its worker and what it imports are transpiled once with the
// `typescript` package into .cache/devtools/<version>/. Two browser-only
// modules the worker never uses at run time are replaced by empty stubs.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');

function packageDir() {
  try {
    return path.dirname(require.resolve('chrome-devtools-frontend/package.json', { paths: [root] }));
  } catch {
    return null;
  }
}

const STUBS = {
  'core/i18n/locales.js':
    "export const BUNDLED_LOCALES = ['en-US'];\nexport const DEFAULT_LOCALE = 'en-US';\n" +
    "export const LOCAL_FETCH_PATTERN = '';\nexport const LOCALES = ['en-US'];\nexport const REMOTE_FETCH_PATTERN = '';\n",
  'third_party/codemirror.next/codemirror.next.js': 'export {};\n',
};

/** Transpiles the worker if needed; returns the directory, or null when the packages are absent. */
function prepare() {
  const pkg = packageDir();
  if (!pkg) return null;
  const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
  const out = path.join(root, '.cache', 'devtools', version);
  // The harness is ours and may change between runs; the transpiled worker only with the version.
  const install = () => fs.copyFileSync(path.join(__dirname, 'summary.mjs'), path.join(out, 'summary.mjs'));
  if (fs.existsSync(path.join(out, 'package.json'))) {
    install();
    return out;
  }
  const ts = require(require.resolve('typescript', { paths: [root] }));
  const src = path.join(pkg, 'front_end');
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const rel = path.relative(src, file);
    const dest = path.join(out, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (STUBS[rel]) return fs.writeFileSync(dest, STUBS[rel]);
    const tsFile = file.replace(/\.js$/, '.ts');
    if (!fs.existsSync(tsFile)) return fs.existsSync(file) && fs.copyFileSync(file, dest);
    const js = ts.transpileModule(fs.readFileSync(tsFile, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, useDefineForClassFields: true },
    }).outputText;
    fs.writeFileSync(dest, js);
    const specifiers = /(?:from\s*|import\s*\(?\s*)['"](\.[^'"]+)['"]/g;
    for (const m of js.matchAll(specifiers)) visit(path.resolve(path.dirname(file), m[1]));
  };
  visit(path.join(src, 'entrypoints/heap_snapshot_worker/HeapSnapshotLoader.js'));
  for (const [rel, text] of Object.entries(STUBS)) {
    fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    fs.writeFileSync(path.join(out, rel), text);
  }
  install();
  // Written last: marks a complete transpile.
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
  return out;
}

function worker(dir, args) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', path.join(dir, 'summary.mjs'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`DevTools' worker failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** DevTools' summary of `file`: class rows by key, total, and retained sizes of the given node ids. */
function summarize(dir, file, ids = []) {
  return worker(dir, [file, ids.join(',')]);
}

/** DevTools' Comparison view of two snapshots: per class key, objects added and removed. */
function compare(dir, before, after) {
  return worker(dir, ['--diff', before, after]);
}

/**
 * DevTools' own model of a sampling heap profile (the Memory panel's
 * "Allocation sampling" view): `SamplingHeapProfileModel` from
 * panels/profiler/HeapProfileView.ts, sliced out of that UI module with the
 * `ProfileTreeModel` it extends, transpiled into `dir`/heap_profile/.
 * Returns the module's path.
 */
function heapProfileModel(dir) {
  const pkg = packageDir();
  const out = path.join(dir, 'heap_profile');
  const model = path.join(out, 'model.mjs');
  if (fs.existsSync(model)) return model;
  const ts = require(require.resolve('typescript', { paths: [root] }));
  const js = (source) =>
    ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, useDefineForClassFields: true } }).outputText;
  const src = path.join(pkg, 'front_end');
  const view = fs.readFileSync(path.join(src, 'panels/profiler/HeapProfileView.ts'), 'utf8');
  const start = view.indexOf('export class SamplingHeapProfileNode');
  const end = view.indexOf('export class NodeFormatter');
  if (start < 0 || end < start) throw new Error('HeapProfileView.ts no longer has SamplingHeapProfileNode/Model before NodeFormatter');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'ProfileTreeModel.mjs'), js(fs.readFileSync(path.join(src, 'models/cpu_profile/ProfileTreeModel.ts'), 'utf8')));
  fs.writeFileSync(path.join(out, 'cpu_profile.mjs'), "export * as ProfileTreeModel from './ProfileTreeModel.mjs';\n");
  fs.writeFileSync(model, `import * as CPUProfile from './cpu_profile.mjs';\n${js(view.slice(start, end))}`);
  return model;
}

/** DevTools' model of the `.heapprofile` at `file`: its total and each node's frame, self and total. */
function readHeapProfile(dir, file) {
  const model = heapProfileModel(dir);
  const script = `
    import fs from 'node:fs';
    const { SamplingHeapProfileModel } = await import(${JSON.stringify(model)});
    const m = new SamplingHeapProfileModel(JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8')));
    const nodes = [];
    const walk = (n) => { nodes.push({ functionName: n.functionName, url: n.url, lineNumber: n.lineNumber, self: n.self, total: n.total }); n.children.forEach(walk); };
    walk(m.root);
    console.log(JSON.stringify({ total: m.total, nodes }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`DevTools' heap profile model failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * What DevTools' views show of some objects (by id: their edges as the
 * Summary sorts them, the Retainers view, the first retaining path, the
 * dominators) and classes (by key: their instances, largest first).
 */
function explore(dir, file, ids, classKeys) {
  return worker(dir, ['--explore', file, ids.join(','), classKeys.join('\n')]);
}

module.exports = { prepare, summarize, compare, explore, readHeapProfile };
