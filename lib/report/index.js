'use strict';
// Pictures: one self-contained HTML file drawn from heapscope's own results
// (a Summary, a diff, a leak report, a monitor's timeline), and a live view
// of the same page served on loopback, fed by server-sent events.
//
// Only aggregates go into a page (class rows, the largest objects, paths,
// samples), so a multi-GB snapshot gives a report of a few hundred KB.

const fs = require('node:fs');
const path = require('node:path');
const { invalidArg } = require('../errors');
const { formatSize } = require('../units');

const { version } = require('../../package.json');

// Read on first use: loading heapscope costs no file reads for pages never drawn.
let assets;
const pageAssets = () =>
  (assets ??= {
    // The page formats sizes with the CLI's own function, carried as source.
    script: `${formatSize}\n${fs.readFileSync(path.join(__dirname, 'page.js'), 'utf8')}`,
    style: fs.readFileSync(path.join(__dirname, 'page.css'), 'utf8'),
  });

/** JSON that cannot close the script element it sits in. */
function embed(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Classes whose objects' names are heap contents: a string's value (its first
 * 1,024 characters), a regular expression's source. A page shows their class
 * and size, not what they hold, unless `{ values: true }` is asked for.
 */
const VALUE_CLASSES = new Set(['(string)', '(concatenated string)', '(sliced string)', '(regexp)', 'RegExp']);

/** A copy of `value` (results of heapscope's) without heap contents or directories. */
function redact(value, key) {
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value === null || typeof value !== 'object') {
    // Files by their name only: a page may travel further than the machine's paths should.
    return key === 'path' && typeof value === 'string' ? path.basename(value) : value;
  }
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = redact(v, k);
  if (VALUE_CLASSES.has(value.className) && typeof value.name === 'string') out.name = value.className;
  return out;
}

// What of each input goes into a page: the figures shown, not the graph.
const slim = {
  summary: (s) => s && { path: s.path ?? null, nodeCount: s.nodeCount, totalSize: s.totalSize, classes: s.classes, objects: s.objects },
  diff: (d) => d && { classes: d.classes, newObjects: d.newObjects ?? null, totalSizes: d.totalSizes },
  leaks: (r) => r && { suspects: r.suspects, totalSizes: r.totalSizes },
  timeline: (t) => t && { samples: t.samples, markers: t.markers },
};

/**
 * Renders results to one HTML page. Any of `summary` (analyze()),
 * `diff` (diff()), `leaks` (findLeaks(), session.leaks()) and `timeline`
 * (monitor.timeline()); `title` names it. Strings' and regular expressions'
 * contents and directories stay out unless `values: true`.
 */
function renderReport(input = {}, { live, values = false } = {}) {
  if (input === null || typeof input !== 'object') throw invalidArg('report', 'an object such as { summary, diff, leaks, timeline }', input);
  if (typeof values !== 'boolean') throw invalidArg('values', 'a boolean', values);
  const figures = {
    summary: slim.summary(input.summary),
    diff: slim.diff(input.diff),
    leaks: slim.leaks(input.leaks),
    timeline: slim.timeline(input.timeline),
  };
  const data = {
    title: input.title || 'heapscope report',
    generatedAt: new Date().toISOString(),
    version,
    ...(values ? figures : redact(figures)),
    live,
  };
  const { script, style } = pageAssets();
  const source = data.summary?.path ? ` — ${path.basename(data.summary.path)}` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'">
<title>${escapeHtml(data.title)}</title>
<style>${style}</style>
</head>
<body>
<header>
<h1>${escapeHtml(data.title)}<small>${escapeHtml(source)}</small></h1>
<p class="meta">heapscope ${escapeHtml(version)} · ${escapeHtml(data.generatedAt)}${live ? ' · <span id="status">connecting</span>' : ''}</p>
</header>
<main id="report"></main>
<script type="application/json" id="heapscope-data">${embed(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}

module.exports = { renderReport, embed, redact };
