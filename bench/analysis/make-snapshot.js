'use strict';
// Builds the benchmark's heap from a real program — the TypeScript compiler
// parsing its own source into an AST (with parent pointers and the binder's
// symbol tables) — and writes one snapshot of it with V8's own writer.
//
//   node bench/analysis/make-snapshot.js <out.heapsnapshot> [sourceMB]
//
// Node 22+ serializes such heaps far faster than Node 20.
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const ts = require('typescript');

const [out, megabytes = '3'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node make-snapshot.js <out.heapsnapshot> [sourceMB]');
  process.exit(2);
}
const source = fs.readFileSync(require.resolve('typescript/lib/typescript.js'), 'utf8');
const wanted = Math.round(Number(megabytes) * 1024 * 1024);
const files = [];
// Whole-line slices of the compiler's source, bound like a real program so
// the heap holds symbols and flow nodes as well as the syntax tree.
for (let at = 0, part = 0; at < wanted; part++) {
  let end = Math.min(source.length, at % source.length + Math.min(1 << 20, wanted - at));
  end = source.indexOf('\n', end);
  if (end < 0) end = source.length;
  const text = source.slice(at % source.length, end);
  files.push(ts.createSourceFile(`part${part}.js`, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS));
  at += text.length || 1;
}
const program = ts.createProgram({
  rootNames: [],
  options: { allowJs: true, noLib: true, noResolve: true },
});
globalThis.benchmarkHeap = { files, program, checker: program.getTypeChecker() };
for (const file of files) ts.bindSourceFile?.(file, {});
const written = v8.writeHeapSnapshot(path.resolve(out));
console.log(JSON.stringify({ file: written, bytes: fs.statSync(written).size, heapUsed: process.memoryUsage().heapUsed }));
