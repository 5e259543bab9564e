'use strict';
// Types that tell the truth: code a user writes compiles with `tsc --strict`
// against index.d.ts / index.d.mts, and the objects heapscope returns at run
// time have exactly the keys and value types their declarations say
// (checked through TypeScript's own type checker, not a copy of the types).

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const ts = require('typescript');
const { root, scratch } = require('./helpers');

test('tsc --strict compiles ESM and CommonJS usage against the declarations', () => {
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

/** The declarations of index.d.ts, through the type checker. */
function declarations() {
  const file = path.join(root, 'index.d.ts');
  const program = ts.createProgram([file], { strict: true, types: ['node'], module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext });
  const checker = program.getTypeChecker();
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)));
  const named = (name) => {
    let symbol = exports.find((s) => s.name === name);
    assert.ok(symbol, `index.d.ts declares ${name}`);
    // Types re-exported from native.d.ts are aliases of its declarations.
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol.flags & ts.SymbolFlags.Interface ? checker.getDeclaredTypeOfSymbol(symbol) : checker.getTypeOfSymbolAtLocation(symbol, symbol.valueDeclaration);
  };
  return { checker, named };
}

/** Problems with `value` as a `type`: undeclared keys, missing ones, wrong kinds. */
function conformance(checker, value, type, where, problems = [], depth = 0) {
  const F = ts.TypeFlags;
  if (type.isUnion()) {
    for (const member of type.types) {
      const attempt = [];
      conformance(checker, value, member, where, attempt, depth);
      if (attempt.length === 0) return problems;
    }
    problems.push(`${where}: ${show(value)} is not ${checker.typeToString(type)}`);
    return problems;
  }
  const f = type.flags;
  const wrong = () => problems.push(`${where}: ${show(value)} is not ${checker.typeToString(type)}`);
  if (f & (F.Any | F.Unknown)) return problems;
  if (value === null) return f & F.Null ? problems : (wrong(), problems);
  if (value === undefined) return f & (F.Undefined | F.Void) ? problems : (wrong(), problems);
  if (f & F.StringLiteral) return value === type.value ? problems : (wrong(), problems);
  if (f & F.NumberLiteral) return value === type.value ? problems : (wrong(), problems);
  if (f & F.BooleanLiteral) return String(value) === checker.typeToString(type) ? problems : (wrong(), problems);
  if (f & F.StringLike) return typeof value === 'string' ? problems : (wrong(), problems);
  if (f & F.NumberLike) return typeof value === 'number' ? problems : (wrong(), problems);
  if (f & F.BooleanLike) return typeof value === 'boolean' ? problems : (wrong(), problems);
  if (f & F.Null || f & F.Undefined) return wrong(), problems;
  if (!(f & (F.Object | F.Intersection | F.NonPrimitive))) return problems;
  if (type.getCallSignatures().length > 0) return typeof value === 'function' ? problems : (wrong(), problems);
  if (typeof value !== 'object') return wrong(), problems;
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    if (!Array.isArray(value)) return wrong(), problems;
    const [element] = checker.getTypeArguments(type);
    value.slice(0, 3).forEach((v, i) => conformance(checker, v, element, `${where}[${i}]`, problems, depth + 1));
    return problems;
  }
  if (depth > 6) return problems;
  const props = new Map(checker.getPropertiesOfType(type).map((p) => [p.name, p]));
  if (props.size === 0) return problems; // Record-like or opaque
  for (const key of Object.keys(value)) {
    if (!props.has(key) && !key.startsWith('_')) problems.push(`${where}.${key}: present at run time, not declared`);
  }
  for (const [name, symbol] of props) {
    const declaration = symbol.valueDeclaration || (symbol.declarations && symbol.declarations[0]);
    if (declaration && ts.isMethodSignature(declaration)) continue;
    const propType = checker.getTypeOfSymbolAtLocation(symbol, declaration);
    if (!(name in value)) {
      if (!(symbol.flags & ts.SymbolFlags.Optional) && propType.getCallSignatures().length === 0) problems.push(`${where}.${name}: declared, missing at run time`);
      continue;
    }
    conformance(checker, value[name], propType, `${where}.${name}`, problems, depth + 1);
  }
  return problems;
}

function show(value) {
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value);
  return text && text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// The objects come from a child process with a small heap (the type
// checker's own heap would make every snapshot slow), structured-cloned so
// that a key holding `undefined` survives the trip.
const PRODUCE = `
  const v8 = require('node:v8');
  const plain = (o) => Object.fromEntries(Object.keys(o).filter((k) => !k.startsWith('_')).map((k) => [k, o[k]]));
  (async () => {
    const out = {};
    globalThis.typesMarker = Array.from({ length: 100 }, (_, i) => ({ typesMarker: i }));
    out.SnapshotInfo = await heapscope.snapshot({ dir: process.argv[1] });
    const progress = [];
    out.Summary = await heapscope.analyze(out.SnapshotInfo.path, { topClasses: 5, topObjects: 2, onProgress: (p) => progress.push(p) });
    out.AnalyzeProgress = progress;
    out.AnalyzedSnapshotInfo = await heapscope.snapshot({ analyze: true, write: false, topClasses: 3 });
    const later = await heapscope.snapshot({ dir: process.argv[1] });
    const { files, ...diff } = await heapscope.diff(out.SnapshotInfo.path, later.path);
    out.SnapshotDiff = diff;
    const watcher = heapscope.watch({ heapUsed: '64GB', nearHeapLimit: true });
    out.Watcher = plain(watcher);
    watcher.stop();
    const session = heapscope.session();
    out.Mark = await session.mark('baseline');
    globalThis.typesGrowth = Array.from({ length: 2000 }, (_, i) => ({ grown: i }));
    const { marks, ...report } = await session.leaks();
    out.LeakReport = report;
    out.marks = marks;
    out.HeapStatistics = heapscope.heapStatistics();
    out.versions = heapscope.versions;
    process.stdout.write(v8.serialize(out).toString('base64'));
  })();
`;

test('the objects returned at run time have the declared keys and types', (t) => {
  const dir = scratch(t);
  const r = spawnSync(process.execPath, ['-e', `const heapscope = require(${JSON.stringify(root)});${PRODUCE}`, dir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const objects = require('node:v8').deserialize(Buffer.from(r.stdout, 'base64'));
  const { checker, named } = declarations();
  const problems = [];
  for (const name of ['SnapshotInfo', 'Summary', 'AnalyzedSnapshotInfo', 'SnapshotDiff', 'Watcher', 'Mark', 'LeakReport', 'HeapStatistics', 'versions']) {
    conformance(checker, objects[name], named(name), name, problems);
  }
  objects.AnalyzeProgress.forEach((p, i) => conformance(checker, p, named('AnalyzeProgress'), `AnalyzeProgress[${i}]`, problems));
  const mark = checker.getUnionType([named('Mark'), named('FinalMark')]);
  objects.marks.forEach((m, i) => conformance(checker, m, mark, `marks[${i}]`, problems));
  assert.ok(objects.AnalyzeProgress.length > 0, 'progress was reported');
  assert.deepEqual(problems, []);
});

test('native.d.ts is what the Rust source declares (napi-rs writes it as the addon compiles)', (t) => {
  const { generated, OUTPUT } = require('../scripts/native-types');
  let text;
  try {
    text = generated();
  } catch (e) {
    // A prebuilt addon: nothing was compiled here, so nothing to compare.
    t.skip(e.message);
    return;
  }
  assert.equal(require('node:fs').readFileSync(OUTPUT, 'utf8'), text, 'native.d.ts is stale: run `npm run types`');
});
