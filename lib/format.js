'use strict';
// Results as text for people: the CLI's tables, the demo's leak report.
// Sizes are formatted as lib/units formats them everywhere.

const { formatSize: size } = require('./units');

/** Columns padded to their widest cell; `right` aligns numbers. */
function table(rows, columns) {
  const widths = columns.map((c) => Math.max(c.title.length, ...rows.map((r) => String(c.value(r)).length)));
  const line = (cells) => cells.map((cell, i) => (columns[i].right ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  return [line(columns.map((c) => c.title)), ...rows.map((r) => line(columns.map((c) => String(c.value(r)))))].join('\n');
}

const signed = (n, format = (x) => x.toLocaleString('en-US')) => (n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : '0');

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** A summary as text: the largest classes, then the largest objects with their paths. */
function formatSummary(result) {
  const out = [];
  out.push(`${result.path}`);
  out.push(`${result.nodeCount.toLocaleString('en-US')} objects, total ${size(result.totalSize)}; read in ${Math.round(result.parseMs)} ms, analysed in ${Math.round(result.analyzeMs)} ms`);
  out.push('');
  out.push(`Largest classes by retained size (${result.classes.length} of ${result.classCount}):`);
  out.push(
    table(result.classes, [
      { title: 'class', value: (c) => clip(c.name, 60) },
      { title: 'count', value: (c) => c.count.toLocaleString('en-US'), right: true },
      { title: 'self', value: (c) => size(c.selfSize), right: true },
      { title: 'retained', value: (c) => size(c.retainedSize), right: true },
    ]),
  );
  if (result.objects.length) {
    out.push('');
    out.push('Largest objects by retained size:');
    for (const o of result.objects) {
      out.push(`  ${size(o.retainedSize).padStart(9)}  ${o.className} @${o.id}`);
      out.push(`             ${o.pathText}`);
    }
  }
  return out.join('\n');
}

/** A diff as text: classes by size change, then where the new objects hang. */
function formatDiff(result, [beforeFile, afterFile], top) {
  const [before, after] = result.totalSizes;
  const out = [`Objects added and removed, ${beforeFile} → ${afterFile} (${size(before)} → ${size(after)}):`];
  out.push(
    table(result.classes.slice(0, top), [
      { title: 'class', value: (r) => clip(r.name, 60) },
      { title: 'new', value: (r) => r.addedCount.toLocaleString('en-US'), right: true },
      { title: 'deleted', value: (r) => r.removedCount.toLocaleString('en-US'), right: true },
      { title: 'delta', value: (r) => signed(r.countDelta), right: true },
      { title: 'size delta', value: (r) => signed(r.sizeDelta, size), right: true },
    ]),
  );
  if (result.newObjects.length > 0) {
    out.push('');
    out.push('New objects still alive, by where they hang:');
    out.push(formatGroups(result.newObjects.slice(0, Math.min(top, 10))));
  }
  return out.join('\n');
}

/** Groups of new objects, each with its path and what it holds. */
function formatGroups(groups) {
  return groups
    .map((g, i) => {
      const places = g.roots > 1 ? ` in ${g.roots.toLocaleString('en-US')} places like` : '';
      const mostly = g.classes.slice(0, 4).map((c) => `${c.name} ×${c.count.toLocaleString('en-US')}`).join(', ');
      return `${i + 1}. ${size(g.size)} in ${g.objects.toLocaleString('en-US')} objects${places}: ${g.pathText}${capturing(g)}\n   mostly: ${mostly}`;
    })
    .join('\n');
}

/**
 * Why a report has no suspect, truthfully: the floor a suspect needed, what
 * the heap did meanwhile, the new objects still alive (every class of the
 * diff: none left out) and where most of them hang.
 */
function noSuspects(report) {
  const floor = report.minGrowth ?? 64 * 1024;
  const out = [
    report.smallLeaks
      ? `No leak suspects: no object's retained size grew by ${size(64 * 1024)} or more, nor by less at every step while holding new objects already there at the target.`
      : `No leak suspects: no object's retained size grew by ${size(floor)} or more (minGrowth) while holding new objects.`,
  ];
  const [first, last] = [report.totalSizes[0], report.totalSizes.at(-1)];
  if (first !== undefined && last !== undefined) {
    const [added, removed] = [{ count: 0, size: 0 }, { count: 0, size: 0 }];
    for (const r of report.diff) {
      added.count += r.addedCount;
      added.size += r.addedSize;
      removed.count += r.removedCount;
      removed.size += r.removedSize;
    }
    const counted = (c) => `${c.count.toLocaleString('en-US')} object${c.count === 1 ? '' : 's'} (${size(c.size)})`;
    let line = `Since the baseline the heap went from ${size(first)} to ${size(last)} (${signed(last - first, size)}); ${counted(added)} added are still alive, ${counted(removed)} were removed`;
    const [most] = report.newObjects || [];
    if (most && most.size > 0) line += `; the most new memory hangs from ${most.pathText} (${size(most.size)} in ${most.objects.toLocaleString('en-US')} objects)`;
    out.push(`${line}.`);
  }
  if (report.totalSizes.length >= 3) out.push('What grew and then stopped growing by the last snapshot (a cache that warmed up, a bounded LRU that filled) is not a suspect.');
  if (floor > 0 || report.smallLeaks) out.push('To see any growth, lower the floor: --min-growth 0 (API: minGrowth: 0).');
  return out.join('\n');
}

/** What a group's closure captures: `, capturing lookupTable (156.3 KB)`. */
function capturing(g) {
  const vars = g.captured || [];
  return vars.length ? `, capturing ${vars.map((v) => `${v.name} (${size(v.retainedSize)})`).join(', ')}` : '';
}

/** How steadily a suspect grew: at every step, or in some. */
function steadiness(s) {
  const steps = s.retained.length - 1;
  if (steps < 2) return '';
  return s.stepsGrown === steps ? ', grew at every step' : `, grew in ${s.stepsGrown} of ${steps} steps`;
}

/** Where a frame's function is: `lib/cart.js:42:17`, or `(V8)` for V8's own. */
function frameWhere(f) {
  return f.url ? `${f.url}:${f.line}${f.column ? `:${f.column}` : ''}` : '(V8)';
}

/**
 * Where a suspect's new objects were allocated (with allocation tracking):
 * `allocated at lib/cart.js:42:17 in addItem: 1,000 objects (40.0 KB), called from handle ← …`.
 * Lines are where the allocating function starts: V8 records functions.
 */
function siteLines(site) {
  // Frames with neither a name nor a script are V8's (the microtask runner).
  const frames = site.stack.slice(1).filter((f) => f.functionName || f.url);
  const callers = frames.slice(0, 3).map((f) => (f.url ? `${f.functionName || '(anonymous)'} (${frameWhere(f)})` : f.functionName));
  const more = frames.length > 3 ? ' ← …' : '';
  const from = callers.length ? `, called from ${callers.join(' ← ')}${more}` : '';
  // Sampled sites are V8's estimates: about so many.
  const about = site.sampled ? '~' : '';
  return `   allocated at ${frameWhere(site)} in ${site.functionName || '(anonymous)'}: ${about}${site.count.toLocaleString('en-US')} objects (${about}${size(site.size)})${from}`;
}

/** A leak report as text: each suspect, what it retains and holds, and through what. */
function formatLeaks(report) {
  if (report.suspects.length === 0) return noSuspects(report);
  // With a target, memlab's leak set ranks (see LeakSuspect.leakedSize).
  const withTarget = report.suspects[0].retained.length >= 3;
  const out = [];
  if (report.smallLeaks) out.push(`Nothing grew by ${size(64 * 1024)} or more; these grew by less, at every step, holding new objects already there at the target:`);
  else if (report.suspects[0].retained.length >= 4) out.push('Leak suspects, what grew at every step first, then most leaked (new objects already there at the target):');
  else out.push(withTarget ? 'Leak suspects, most leaked first (new objects already there at the target):' : 'Leak suspects, largest growth first:');
  report.suspects.forEach((s, i) => {
    const growth = s.retained.map(size).join(' → ');
    const rate = s.growthPerMinute ? `, ${signed(s.growthPerMinute, size)} a minute` : '';
    let held = `holds ${s.newObjects.toLocaleString('en-US')} new objects (${size(s.newSize)})`;
    if (withTarget && s.leakedObjects > 0) held += `, ${s.leakedObjects.toLocaleString('en-US')} (${size(s.leakedSize)}) of them already there at the target`;
    else if (withTarget && s.newObjects > 0) held += ', none of them there at the target (allocated after it: outside the leak set, or a table replaced by a larger one)';
    out.push('');
    out.push(`${i + 1}. ${s.pathText}`);
    out.push(`   retains ${growth} (${signed(s.growth, size)}${rate}${steadiness(s)}); ${held}`);
    out.push(`   mostly: ${s.classes.slice(0, 4).map((c) => `${c.name} ×${c.count.toLocaleString('en-US')}`).join(', ')}`);
    for (const g of s.through) {
      // Below the suspect: its path is already printed.
      const where = g.pathText.startsWith(`${s.pathText} → `) ? `… → ${g.pathText.slice(s.pathText.length + 3)}` : g.pathText;
      out.push(`   ${size(g.size).padStart(9)} in ${g.objects.toLocaleString('en-US')} new objects through ${where}${capturing(g)}`);
    }
    for (const site of (s.allocationSites || []).slice(0, 3)) out.push(siteLines(site));
  });
  return out.join('\n');
}

/** Allocation sites of a heap profile as text: the largest live memory by the code that allocated it. */
function formatSites(sites, top) {
  const total = sites.reduce((sum, s) => sum + s.selfSize, 0);
  const out = [`${size(total)} of live memory sampled, by the function that allocated it:`, ''];
  out.push(`${'self'.padStart(10)}  ${'share'.padStart(6)}  site`);
  for (const s of sites.slice(0, top)) {
    const share = total > 0 ? `${((100 * s.selfSize) / total).toFixed(1)}%` : '';
    const where = s.url ? `${s.url}:${s.lineNumber}${s.columnNumber ? `:${s.columnNumber}` : ''}` : '(V8)';
    out.push(`${size(s.selfSize).padStart(10)}  ${share.padStart(6)}  ${s.functionName || '(anonymous)'}  ${where}`);
  }
  if (sites.length > top) out.push(`… ${sites.length - top} more sites (--top N)`);
  return out.join('\n');
}

/** An object in one line: `Class @id "name"`. */
function objectLabel(o) {
  const name = o.name && o.name !== o.className ? ` ${JSON.stringify(clip(o.name, 60))}` : '';
  return `${clip(o.className, 60)} @${o.id}${name}`;
}

/** An edge as DevTools writes it: `.name`, `[7]`, `->variable`, `{internal}`. */
function edgeLabel(e) {
  switch (e.type) {
    case 'element':
      return `[${e.name}]`;
    case 'context':
      return `->${e.name}`;
    case 'internal':
    case 'hidden':
    case 'invisible':
      return `{${e.name}}`;
    case 'weak':
      return `[[${e.name}]]`;
    case 'shortcut':
      return /^\d+$/.test(e.name) ? `[${e.name}]` : `.${e.name}`;
    default:
      return /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(e.name) ? `.${e.name}` : `[${JSON.stringify(e.name)}]`;
  }
}

const objectColumns = [
  { title: 'self', value: (o) => size(o.selfSize), right: true },
  { title: 'retained', value: (o) => size(o.retainedSize), right: true },
  { title: 'distance', value: (o) => (o.distance >= 0 && o.distance < 1e8 ? o.distance : '-'), right: true },
];

/** A page of edges (an object's, or its retainers) as a table, with what is left. */
function formatEdges(page, { offset = 0, object = 'object' } = {}) {
  const rows = table(page.items, [
    { title: 'edge', value: (e) => clip(edgeLabel(e), 40) },
    { title: object, value: (e) => objectLabel(e.node) },
    ...objectColumns.map((c) => ({ ...c, value: (e) => c.value(e.node) })),
  ]);
  return `${rows}
${shown(page, offset)}`;
}

/** A page of objects as a table, with what is left. */
function formatObjects(page, { offset = 0 } = {}) {
  return `${table(page.items, [{ title: 'object', value: objectLabel }, ...objectColumns])}
${shown(page, offset)}`;
}

function shown(page, offset) {
  const last = offset + page.items.length;
  return page.total === 0 ? '(none)' : `${offset + 1}–${last} of ${page.total.toLocaleString('en-US')}${last < page.total ? ` (--offset ${last} for more)` : ''}`;
}

/** An object with its sizes and a page of its edges. */
function formatObject(o, options) {
  const head = `${objectLabel(o)}: ${o.type}, self ${size(o.selfSize)}, retained ${size(o.retainedSize)}, distance ${objectColumns[2].value(o)}`;
  return `${head}

${formatEdges(o.edges, options)}`;
}

/** A retaining path: its text, then each step from the root. */
function formatPath(path) {
  if (path.steps.length === 0) return '(no path from the root)';
  const steps = path.steps.map((s, i) => `${'  '.repeat(Math.min(i, 20))}${edgeLabel(s)} → ${objectLabel(s.node)}  ${size(s.node.retainedSize)}`);
  return `${path.text}

${steps.join('\n')}`;
}

/** Duplicate strings as a table: value, copies, bytes, wasted. */
function formatStrings(page, { offset = 0 } = {}) {
  const rows = table(page.items, [
    { title: 'value', value: (d) => JSON.stringify(clip(d.value, 60)) },
    { title: 'copies', value: (d) => d.count.toLocaleString('en-US'), right: true },
    { title: 'size', value: (d) => size(d.size), right: true },
    { title: 'wasted', value: (d) => size(d.wasted), right: true },
  ]);
  return `${rows}\n${shown(page, offset)}`;
}

/** Closures, each with the variables its context captures. */
function formatClosures(page, { offset = 0 } = {}) {
  const out = [];
  for (const c of page.items) {
    out.push(`${size(c.closure.retainedSize).padStart(9)}  ${objectLabel(c.closure)}`);
    for (const v of c.variables.items) out.push(`             ${v.name}: ${objectLabel(v.node)}  ${size(v.node.retainedSize)}`);
  }
  return `${out.join('\n')}\n${shown(page, offset)}`;
}

module.exports = {
  formatSummary,
  formatDiff,
  formatLeaks,
  formatSites,
  formatObject,
  formatEdges,
  formatObjects,
  formatPath,
  formatStrings,
  formatClosures,
  objectLabel,
};
