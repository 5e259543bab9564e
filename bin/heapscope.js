#!/usr/bin/env node
'use strict';
// heapscope's command line: `heapscope summary | diff | leaks …`.
// Exit codes: 0 done, 1 the snapshot could not be read or analysed, 2 usage.

const fs = require('node:fs');
const path = require('node:path');
const heapscope = require('..');
const { formatSize: size } = require('../lib/units');

const USAGE = `usage: heapscope summary <file.heapsnapshot[.gz]> [--json] [--top N] [--objects N]
       heapscope diff <before> <after> [--json] [--top N]
       heapscope leaks <baseline> [<target>] <final> [--json]
       heapscope report <file> [--vs <older>] [-o report.html] [--top N]

  summary  the classes and objects that retain the most memory, with Chrome
           DevTools' numbers (count, self size, retained size) and retainer paths
  diff     objects added and removed per class between two snapshots of one process
  leaks    what grew from baseline to final and the retainer path that holds it
           (memlab's three snapshots: new after the baseline, alive at the end)
  report   one self-contained HTML page with charts: retained size by class,
           the largest objects and their paths; with --vs, growth by class and
           the leak suspects since the older snapshot (of the same process)
  --json       the full result as JSON on stdout
  --top N      rows to show (default 20)
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
  await fail(async () => printSummary(await heapscope.analyze(file, { topClasses: top, topObjects: objects }), json));
}

function printSummary(result, json) {
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
      const trail = o.path.map((s) => `${s.edge} (${s.className})`).join(' → ');
      out.push(`  ${size(o.retainedSize).padStart(9)}  ${o.className} @${o.id}`);
      out.push(`             ${trail}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

// Files and flags of diff / leaks.
function parseCompare(args, files) {
  const options = { json: false, top: 20, files: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') options.json = true;
    else if (a === '--top') {
      options.top = Number(args[++i]);
      if (!Number.isInteger(options.top) || options.top < 0) usage('--top needs a non-negative integer');
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else options.files.push(a);
  }
  if (!files.includes(options.files.length)) usage(`expected ${files.join(' or ')} snapshot files`);
  return options;
}

const signed = (n, format = (x) => x.toLocaleString('en-US')) => (n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : '0');

async function fail(work) {
  try {
    await work();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
  }
}

async function diff(args) {
  const { json, top, files } = parseCompare(args, [2]);
  await fail(async () => {
    const result = await heapscope.diff(files[0], files[1]);
    if (json) return process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    const [before, after] = result.totalSizes;
    process.stdout.write(`Objects added and removed, ${files[0]} → ${files[1]} (${size(before)} → ${size(after)}):\n`);
    process.stdout.write(
      `${table(result.classes.slice(0, top), [
        { title: 'class', value: (r) => clip(r.name, 60) },
        { title: 'new', value: (r) => r.addedCount.toLocaleString('en-US'), right: true },
        { title: 'deleted', value: (r) => r.removedCount.toLocaleString('en-US'), right: true },
        { title: 'delta', value: (r) => signed(r.countDelta), right: true },
        { title: 'size delta', value: (r) => signed(r.sizeDelta, size), right: true },
      ])}\n`,
    );
    if (result.newObjects.length === 0) return;
    process.stdout.write('\nNew objects still alive, by where they hang:\n');
    process.stdout.write(`${formatGroups(result.newObjects.slice(0, Math.min(top, 10)))}\n`);
  });
}

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** Groups of new objects, each with its path and what it holds. */
function formatGroups(groups) {
  return groups
    .map((g, i) => {
      const places = g.roots > 1 ? ` in ${g.roots.toLocaleString('en-US')} places like` : '';
      const mostly = g.classes.slice(0, 4).map((c) => `${c.name} ×${c.count.toLocaleString('en-US')}`).join(', ');
      return `${i + 1}. ${size(g.size)} in ${g.objects.toLocaleString('en-US')} objects${places}: ${g.pathText}\n   mostly: ${mostly}`;
    })
    .join('\n');
}

async function leaks(args) {
  const { json, files } = parseCompare(args, [2, 3]);
  const [baseline, target, last] = files.length === 3 ? files : [files[0], undefined, files[1]];
  await fail(async () => {
    const report = await heapscope.findLeaks({ baseline, target, final: last });
    if (json) return process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${formatLeaks(report)}\n`);
  });
}

/** A leak report as text (also used by the demo). */
function formatLeaks(report) {
  if (report.suspects.length === 0) return 'No leak suspects: nothing grew that holds new objects.';
  const out = ['Leak suspects, largest growth first:'];
  report.suspects.forEach((s, i) => {
    const growth = s.retained.map(size).join(' → ');
    const rate = s.growthPerMinute ? `, ${signed(s.growthPerMinute, size)} a minute` : '';
    out.push('');
    out.push(`${i + 1}. ${s.pathText}`);
    out.push(`   retains ${growth} (${signed(s.growth, size)}${rate}); holds ${s.newObjects.toLocaleString('en-US')} new objects (${size(s.newSize)}), ${s.leakedObjects.toLocaleString('en-US')} of them already there at the target`);
    out.push(`   mostly: ${s.classes.slice(0, 4).map((c) => `${c.name} ×${c.count.toLocaleString('en-US')}`).join(', ')}`);
    for (const g of s.through) {
      // Below the suspect: its path is already printed.
      const where = g.pathText.startsWith(`${s.pathText} → `) ? `… → ${g.pathText.slice(s.pathText.length + 3)}` : g.pathText;
      out.push(`   ${size(g.size).padStart(9)} in ${g.objects.toLocaleString('en-US')} new objects through ${where}`);
    }
  });
  return out.join('\n');
}

async function report(args) {
  let file;
  let older;
  let out = 'heapscope-report.html';
  let top = 30;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => (i + 1 < args.length ? args[++i] : usage(`${a} needs a value`));
    if (a === '--vs') older = value();
    else if (a === '-o' || a === '--output') out = value();
    else if (a === '--top') {
      top = Number(value());
      if (!Number.isInteger(top) || top < 1) usage('--top needs a positive integer');
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (file === undefined) file = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!file) usage('report needs a snapshot file');
  await fail(async () => {
    const summary = await heapscope.analyze(file, { topClasses: top, topObjects: 20 });
    const input = { title: `heapscope report — ${path.basename(file)}`, summary };
    if (older !== undefined) {
      input.diff = await heapscope.diff(older, file);
      input.leaks = await heapscope.findLeaks({ baseline: older, final: file });
    }
    const html = heapscope.renderReport(input);
    // Written whole to a temporary name, fsynced, then renamed: never a half
    // page under the final name, and no temporary file left when a write fails.
    const tmp = `${out}.tmp-${process.pid}`;
    try {
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.writeFileSync(fd, html);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, out);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`heapscope: cannot write the report to ${out}: ${e.message}`);
    }
    process.stdout.write(`report written to ${out} (${size(Buffer.byteLength(html))})\n`);
  });
}

const [command, ...rest] = process.argv.slice(2);
if (require.main !== module) module.exports = { formatLeaks };
else if (command === 'summary') summary(rest);
else if (command === 'diff') diff(rest);
else if (command === 'leaks') leaks(rest);
else if (command === 'report') report(rest);
else if (command === undefined || command === '--help' || command === '-h') usage();
else usage(`unknown command ${command}`);
