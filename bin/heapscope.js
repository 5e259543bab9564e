#!/usr/bin/env node
'use strict';
// heapscope's command line: `heapscope summary | diff | leaks | profile | report`,
// `node | retainers | path | dominators | instances | find | strings | closures`
// to explore one snapshot, and
// `mcp`, the same for AI assistants over the Model Context Protocol.
// Results go to stdout, progress and errors to stderr. Exit codes: 0 done,
// 1 a snapshot could not be read or analysed (or the report written), 2 usage.

const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

// A command-line run reads files; it arms no snapshot signal of its own.
if (require.main === module) process.env.HEAPSCOPE_SIGNAL = 'off';
const heapscope = require('..');
const {
  formatDiff,
  formatLeaks,
  formatSites,
  formatSummary,
  formatObject,
  formatEdges,
  formatObjects,
  formatPath,
  formatStrings,
  formatClosures,
  objectLabel,
} = require('../lib/format');
const { nodeId } = require('../lib/explore');
const { readProfileSites } = require('../lib/sampling');
const { formatSize: size, parseSize } = require('../lib/units');

const EXPLORING = ['node', 'retainers', 'path', 'dominators', 'instances', 'find', 'strings', 'closures'];
const { version } = require('../package.json');

const COMMANDS = {
  summary: {
    usage: 'heapscope summary <file.heapsnapshot[.gz] | -> [--json] [--top N] [--objects N] [--threads N]',
    about: `the classes and objects that retain the most memory, with Chrome DevTools'
numbers (count, self size, retained size) and retainer paths`,
    files: [1],
    options: {
      json: { type: 'boolean', help: 'the whole result as JSON on stdout (every class row unless --top is given)' },
      top: { type: 'string', help: 'class rows to show (default 20)' },
      objects: { type: 'string', help: 'largest objects to show with their retainer paths (default 10)' },
      threads: { type: 'string', help: 'most threads the analysis keeps busy (default: what the process may use: cores, affinity, cgroup CPU quota)' },
    },
  },
  diff: {
    usage: 'heapscope diff <before> <after> [--json] [--top N] [--force] [--threads N]',
    about: 'objects added and removed per class between two snapshots of one process',
    files: [2],
    options: {
      json: { type: 'boolean', help: 'the whole result as JSON on stdout' },
      top: { type: 'string', help: 'class rows to show (default 20)' },
      force: { type: 'boolean', help: 'compare even when the node ids say the files are of two processes' },
      threads: { type: 'string', help: 'most threads the analysis keeps busy (default: what the process may use: cores, affinity, cgroup CPU quota)' },
    },
  },
  leaks: {
    usage: 'heapscope leaks <baseline> [<target> | <step> … <target>] <final> [--json] [--force] [--min-growth SIZE] [--threads N]',
    about: `what grew from baseline to final and the retainer path that holds it
(memlab's three snapshots: new after the baseline, alive at the end; with
more, oldest first, what grew at every step ranks first, and what stopped
growing is not a suspect)`,
    files: Array.from({ length: 63 }, (_, i) => i + 2),
    options: {
      json: { type: 'boolean', help: 'the whole report as JSON on stdout' },
      force: { type: 'boolean', help: 'compare even when the node ids say the files are of two processes' },
      'min-growth': { type: 'string', help: 'least growth of retained size for a suspect, e.g. 4KB or 0 (default: 64KB, or when nothing grew that much, any growth at every step that holds leaked objects)' },
      threads: { type: 'string', help: 'most threads the analysis keeps busy (default: what the process may use: cores, affinity, cgroup CPU quota)' },
    },
  },
  profile: {
    usage: 'heapscope profile <file.heapprofile | file.pb.gz> [--json] [--top N]',
    about: `the allocation sites of a sampling heap profile (Chrome's .heapprofile,
or pprof): the live memory by the function that allocated it`,
    files: [1],
    noun: 'profile file',
    options: {
      json: { type: 'boolean', help: 'every site as JSON on stdout' },
      top: { type: 'string', help: 'sites to show (default 20)' },
    },
  },
  report: {
    usage: 'heapscope report <file> [--vs <older>] [-o report.html] [--top N] [--force] [--min-growth SIZE] [--threads N]',
    about: `one self-contained HTML page with charts: retained size by class, the
largest objects and their paths; with --vs, growth by class and the leak
suspects since the older snapshot (of the same process)`,
    files: [1],
    options: {
      vs: { type: 'string', help: 'an older snapshot of the same process to compare with' },
      output: { type: 'string', short: 'o', help: 'the page to write (default heapscope-report.html)' },
      top: { type: 'string', help: 'class rows (default 30)' },
      force: { type: 'boolean', help: 'compare even when the node ids say the files are of two processes' },
      'min-growth': { type: 'string', help: 'least growth of retained size for a suspect, e.g. 4KB or 0 (default: 64KB, or when nothing grew that much, any growth at every step that holds leaked objects)' },
      threads: { type: 'string', help: 'most threads the analysis keeps busy (default: what the process may use: cores, affinity, cgroup CPU quota)' },
    },
  },
  ...exploring(),
  mcp: {
    usage: 'heapscope mcp',
    about: `a Model Context Protocol server on stdin/stdout: AI assistants load
snapshots and explore them with the commands above (needs the package
@modelcontextprotocol/sdk beside heapscope)`,
    files: [0],
    needs: 'no arguments',
    options: {},
  },
};

/** The commands that look at one object or class of a snapshot (heapscope.open()). */
function exploring() {
  const page = {
    limit: { type: 'string', help: 'rows to show (default 20)' },
    offset: { type: 'string', help: 'rows to skip first (default 0)' },
  };
  const common = {
    json: { type: 'boolean', help: 'the result as JSON on stdout' },
    threads: { type: 'string', help: 'most threads the analysis keeps busy (default: what the process may use: cores, affinity, cgroup CPU quota)' },
  };
  const byId = (about, paged) => ({
    about,
    files: [2],
    needs: 'a snapshot file and an object id (@123, as Chrome DevTools shows it)',
    options: { ...common, ...(paged && page) },
  });
  return {
    node: { usage: 'heapscope node <file> <@id> [--json] [--limit N] [--offset N]', ...byId("an object: its sizes and distance, and its edges as DevTools' Summary lists them", true) },
    retainers: { usage: 'heapscope retainers <file> <@id> [--json] [--limit N] [--offset N]', ...byId("what holds an object, nearest the roots first (DevTools' Retainers view)", true) },
    path: { usage: 'heapscope path <file> <@id> [--json]', ...byId("the retaining path from the root to an object, as DevTools finds it", false) },
    dominators: { usage: 'heapscope dominators <file> <@id> [--json] [--limit N] [--offset N]', ...byId('the objects that dominate an object, out to the root, and what it dominates', true) },
    instances: {
      usage: 'heapscope instances <file> <class> [--json] [--limit N] [--offset N]',
      about: 'the objects of a Summary class, largest retained size first',
      files: [2],
      needs: 'a snapshot file and a class name',
      options: { ...common, ...page },
    },
    find: {
      usage: 'heapscope find <file> [--class NAME] [--type TYPE] [--property NAME] [--value TEXT | --pattern RE] [--json] [--limit N] [--offset N]',
      about: 'objects by class, node type, a property they have, or a value their name holds, largest first',
      files: [1],
      options: {
        class: { type: 'string', help: 'the Summary class name' },
        type: { type: 'string', help: 'the node type: object, string, closure, array, …' },
        property: { type: 'string', help: 'a property the object has' },
        value: { type: 'string', help: "a substring of its name (a string's value, a function's name)" },
        pattern: { type: 'string', help: "a regular expression its name matches (Rust's regex syntax)" },
        ...common,
        ...page,
      },
    },
    strings: {
      usage: 'heapscope strings <file> [--json] [--limit N] [--offset N]',
      about: 'string values held more than once, by the bytes the copies waste',
      files: [1],
      options: { ...common, ...page },
    },
    closures: {
      usage: 'heapscope closures <file> [--json] [--limit N] [--offset N]',
      about: 'closures by retained size, with the variables their contexts capture',
      files: [1],
      options: { ...common, ...page },
    },
  };
}

/** The CLI's own process has no application to yield to: the analysis is its job. */
const PRIORITY = 'normal';

const EXIT_CODES = `exit codes: 0 done, 1 a snapshot could not be read, analysed or compared, 2 usage`;

function mainHelp() {
  const lines = [`heapscope ${version}: heap snapshots of Node.js, analysed with Chrome DevTools' numbers`, '', 'usage:'];
  for (const c of Object.values(COMMANDS)) lines.push(`  ${c.usage}`);
  lines.push('', 'commands:');
  for (const [name, c] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(10)} ${c.about.replace(/\n/g, `\n${' '.repeat(13)}`)}`);
  }
  lines.push('', '  heapscope <command> --help   the options of one command', '  heapscope --version', '', EXIT_CODES);
  return `${lines.join('\n')}\n`;
}

function commandHelp(name) {
  const c = COMMANDS[name];
  const lines = [`usage: ${c.usage}`, '', c.about, '', 'options:'];
  for (const [option, spec] of Object.entries(c.options)) {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${option}${spec.type === 'string' ? ' <value>' : ''}`;
    lines.push(`  ${flag.padEnd(22)} ${spec.help}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(22)} this help`, '', EXIT_CODES);
  return `${lines.join('\n')}\n`;
}

function usage(message, name) {
  process.stderr.write(`heapscope: ${message}\n`);
  process.stderr.write(name ? `usage: ${COMMANDS[name].usage}\n(heapscope ${name} --help for more)\n` : 'see heapscope --help\n');
  process.exit(2);
}

/** Edit distance, for "did you mean". */
function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function nearest(word) {
  const [best] = Object.keys(COMMANDS)
    .map((name) => [name, distance(word, name)])
    .sort((x, y) => x[1] - y[1]);
  return best[1] <= Math.max(2, Math.floor(best[0].length / 2)) ? best[0] : null;
}

/** A command's arguments: { files, values }, or exit 2 with what is wrong. */
function parse(name, args) {
  const spec = COMMANDS[name];
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [option, o] of Object.entries(spec.options)) options[option] = { type: o.type, ...(o.short && { short: o.short }) };
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    usage(e.message.replace(/\. To specify a positional argument.*$/s, ''), name);
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(name));
    process.exit(0);
  }
  if (!spec.files.includes(parsed.positionals.length)) {
    const counts = spec.files.length > 2 ? `${spec.files[0]} to ${spec.files.at(-1)}` : spec.files.join(' or ');
    usage(`${name} needs ${spec.needs ?? `${counts} ${spec.noun ?? 'snapshot file'}${spec.files.at(-1) > 1 ? 's' : ''}`}`, name);
  }
  return { files: parsed.positionals, values: parsed.values };
}

/** `-` is standard input (a pipe reads as a stream, never by seeking). */
const input = (file) => (file === '-' ? '/dev/stdin' : file);

/** A --top/--objects/--threads value: a whole number ≥ min, or exit 2. */
function count(name, option, value, fallback, min = 0) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) usage(`--${option} needs a whole number${min ? ` of at least ${min}` : ''}, not ${JSON.stringify(value)}`, name);
  return n;
}

/** A --min-growth value: a size such as 4KB, 1.5MB or 0, or exit 2. */
function growthFloor(name, value) {
  if (value === undefined) return undefined;
  try {
    return parseSize('min-growth', value, { zero: true });
  } catch {
    return usage(`--min-growth needs a size such as 4KB, 1.5MB or 0, not ${JSON.stringify(value)}`, name);
  }
}

/** Phase and percent on stderr while analysing, on a terminal only. */
function progress() {
  if (!process.stderr.isTTY) return { onProgress: undefined, done() {} };
  let shown = '';
  return {
    onProgress(p) {
      const text = p.fraction === null || p.fraction === undefined ? p.phase : `${p.phase} ${Math.floor(p.fraction * 100)}%`;
      if (text !== shown) {
        shown = text;
        process.stderr.write(`\r\x1b[K${text}`);
      }
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

async function summary(args) {
  const { files, values } = parse('summary', args);
  // --json without --top is the whole result: every class row.
  const top = count('summary', 'top', values.top, values.json ? 2 ** 32 - 1 : 20);
  const objects = count('summary', 'objects', values.objects, 10);
  const threads = count('summary', 'threads', values.threads, undefined, 1);
  const shown = progress();
  await fail(async () => {
    try {
      const result = await heapscope.analyze(input(files[0]), { topClasses: top, topObjects: objects, threads, priority: PRIORITY, onProgress: shown.onProgress });
      shown.done();
      process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatSummary(result)}\n`);
    } finally {
      shown.done();
    }
  });
}

async function fail(work) {
  try {
    await work();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
  }
}

async function diff(args) {
  const { files, values } = parse('diff', args);
  const { json, force } = values;
  const top = count('diff', 'top', values.top, 20);
  const threads = count('diff', 'threads', values.threads, undefined, 1);
  await fail(async () => {
    const result = await heapscope.diff(files[0], files[1], { force, threads, priority: PRIORITY });
    if (json) return process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${formatDiff(result, files, top)}\n`);
  });
}

async function leaks(args) {
  const { files, values } = parse('leaks', args);
  const { json, force } = values;
  const threads = count('leaks', 'threads', values.threads, undefined, 1);
  const minGrowth = growthFloor('leaks', values['min-growth']);
  await fail(async () => {
    const report = await heapscope.findLeaks({ snapshots: files, force, threads, minGrowth, priority: PRIORITY });
    if (json) return process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${formatLeaks(report)}\n`);
  });
}

async function profile(args) {
  const { files, values } = parse('profile', args);
  const top = count('profile', 'top', values.top, 20, 1);
  await fail(async () => {
    let bytes;
    try {
      bytes = fs.readFileSync(input(files[0]));
    } catch (e) {
      throw new Error(`heapscope: cannot read ${files[0]}: ${e.message}`);
    }
    const sites = readProfileSites(bytes, files[0]);
    process.stdout.write(values.json ? `${JSON.stringify(sites, null, 2)}\n` : `${formatSites(sites, top)}\n`);
  });
}

async function report(args) {
  const { files, values } = parse('report', args);
  const [file] = files;
  const older = values.vs;
  const out = values.output ?? 'heapscope-report.html';
  const top = count('report', 'top', values.top, 30, 1);
  const threads = count('report', 'threads', values.threads, undefined, 1);
  const minGrowth = growthFloor('report', values['min-growth']);
  await fail(async () => {
    const summary = await heapscope.analyze(file, { topClasses: top, topObjects: 20, threads, priority: PRIORITY });
    const input = { title: `heapscope report — ${path.basename(file)}`, summary };
    if (older !== undefined) {
      input.diff = await heapscope.diff(older, file, { force: values.force, threads, priority: PRIORITY });
      input.leaks = await heapscope.findLeaks({ baseline: older, final: file, force: values.force, threads, minGrowth, priority: PRIORITY });
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

/**
 * `node`, `retainers`, `path`, `dominators`, `instances`, `find`, `strings`,
 * `closures`: opens the snapshot, asks the heap, prints a table (or JSON).
 * An id the snapshot does not have is exit 1.
 */
async function explore(name, args) {
  const { files, values } = parse(name, args);
  const [file, what] = files;
  const limit = count(name, 'limit', values.limit, 20, 1);
  const offset = count(name, 'offset', values.offset, 0);
  const threads = count(name, 'threads', values.threads, undefined, 1);
  let id;
  if (['node', 'retainers', 'path', 'dominators'].includes(name)) {
    try {
      id = nodeId(what);
    } catch {
      usage(`${name} needs an object id such as @123, not ${JSON.stringify(what)}`, name);
    }
  }
  await fail(async () => {
    const heap = await heapscope.open(input(file), { threads, priority: PRIORITY });
    try {
      const page = { offset, limit };
      const missing = () => new Error(`heapscope: ${file} has no object @${id}`);
      const print = (result, text) => process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${text(result)}\n`);
      if (name === 'node') {
        const o = await heap.node(id, page);
        if (!o) throw missing();
        print(o, (r) => formatObject(r, page));
      } else if (name === 'retainers') {
        const target = await heap.node(id, { limit: 1 });
        if (!target) throw missing();
        const retainers = await heap.retainers(id, page);
        print(retainers, (r) => `Retainers of ${objectLabel(target)}, nearest the roots first:\n\n${formatEdges(r, { ...page, object: 'retainer' })}`);
      } else if (name === 'path') {
        const path = await heap.path(id);
        if (!path) throw missing();
        print(path, formatPath);
      } else if (name === 'dominators') {
        const chain = await heap.dominators(id);
        if (!chain) throw missing();
        const dominated = await heap.dominated(id, page);
        print({ dominators: chain, dominated }, (r) => {
          const up = r.dominators.map((o, i) => `${'  '.repeat(i)}${objectLabel(o)}  ${size(o.retainedSize)}`).join('\n');
          return `Dominated by, nearest first:\n${up || '(the root)'}\n\nDominates, largest first:\n\n${formatObjects(r.dominated, page)}`;
        });
      } else if (name === 'instances') {
        const instances = await heap.instances(what, page);
        print(instances, (r) => `Objects of ${what}, largest retained size first:\n\n${formatObjects(r, page)}`);
      } else if (name === 'find') {
        const { class: className, type, property, value, pattern } = values;
        const found = await heap.find({ className, type, property, value, pattern }, page);
        print(found, (r) => formatObjects(r, page));
      } else if (name === 'strings') {
        const strings = await heap.duplicateStrings(page);
        print(strings, (r) => formatStrings(r, page));
      } else {
        const closures = await heap.closures(page);
        print(closures, (r) => formatClosures(r, page));
      }
    } finally {
      heap.close();
    }
  });
}

async function mcp(args) {
  parse('mcp', args);
  await fail(() => require('../lib/mcp').serveMcp());
}

function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    if (command === 'help' && COMMANDS[rest[0]]) process.stdout.write(commandHelp(rest[0]));
    else process.stdout.write(mainHelp());
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return;
  }
  const run = { summary, diff, leaks, profile, report, mcp }[command] ?? (EXPLORING.includes(command) && ((args) => explore(command, args)));
  if (run) {
    run(rest);
    return;
  }
  const near = command.startsWith('-') ? null : nearest(command);
  usage(`unknown ${command.startsWith('-') ? 'option' : 'command'} ${command}${near ? `; did you mean \`heapscope ${near}\`?` : ''}`);
}

main(process.argv.slice(2));
