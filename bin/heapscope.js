#!/usr/bin/env node
'use strict';
// heapscope's command line: `heapscope summary <file> [--json] [--top N]`.
// Exit codes: 0 done, 1 the snapshot could not be read or analysed, 2 usage.

const heapscope = require('..');
const { formatSize: size } = require('../lib/units');

const USAGE = `usage: heapscope summary <file.heapsnapshot[.gz]> [--json] [--top N] [--objects N]

  Prints the classes and objects that retain the most memory, with Chrome
  DevTools' numbers (count, self size, retained size) and retainer paths.
  --json       the full summary as JSON on stdout
  --top N      class rows to show (default 20)
  --objects N  largest objects to show with their retainer paths (default 10)
`;

function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.title.length, ...rows.map((r) => String(c.value(r)).length)));
  const line = (cells) => cells.map((cell, i) => (columns[i].right ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  return [line(columns.map((c) => c.title)), ...rows.map((r) => line(columns.map((c) => String(c.value(r)))))].join('\n');
}

function usage(message) {
  if (message) process.stderr.write(`heapscope: ${message}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

async function summary(args) {
  let file;
  let json = false;
  let top = 20;
  let objects = 10;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--top' || a === '--objects') {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 0) usage(`${a} needs a non-negative integer`);
      if (a === '--top') top = n;
      else objects = n;
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (file === undefined) file = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!file) usage('summary needs a snapshot file');
  let result;
  try {
    result = await heapscope.analyze(file, { topClasses: top, topObjects: objects });
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
    return;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const out = [];
  out.push(`${result.path}`);
  out.push(`${result.nodeCount.toLocaleString('en-US')} objects, total ${size(result.totalSize)}; read in ${Math.round(result.parseMs)} ms, analysed in ${Math.round(result.analyzeMs)} ms`);
  out.push('');
  out.push(`Largest classes by retained size (${result.classes.length} of ${result.classCount}):`);
  out.push(
    table(result.classes, [
      { title: 'class', value: (c) => (c.name.length > 60 ? `${c.name.slice(0, 59)}…` : c.name) },
      { title: 'count', value: (c) => c.count.toLocaleString('en-US'), right: true },
      { title: 'self', value: (c) => size(c.selfSize), right: true },
      { title: 'retained', value: (c) => size(c.retainedSize), right: true },
    ]),
  );
  if (result.objects.length) {
    out.push('');
    out.push('Largest objects by retained size:');
    for (const o of result.objects) {
      const path = o.path.map((s) => `${s.edge} (${s.className})`).join(' → ');
      out.push(`  ${size(o.retainedSize).padStart(9)}  ${o.className} @${o.id}`);
      out.push(`             ${path}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'summary') summary(rest);
else if (command === undefined || command === '--help' || command === '-h') usage();
else usage(`unknown command ${command}`);
