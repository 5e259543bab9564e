'use strict';
// The command line behaves like every good CLI: help and version on stdout
// with exit 0, `--top=5` as `--top 5`, a suggestion for a mistyped command,
// the whole result with --json, progress on a terminal only.

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { root, runNodeJson } = require('./helpers');

const bin = path.join(root, 'bin', 'heapscope.js');
const run = (...args) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

const fs = require('node:fs');
const os = require('node:os');

let dir;
let snapshotFile;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-cli-'));
  snapshotFile = runNodeJson(`
    class CliRow { constructor(i) { this.i = i; } }
    globalThis.rows = Array.from({ length: 300 }, (_, i) => new CliRow(i));
    heapscope.snapshot({ dir: ${JSON.stringify(dir)} }).then((i) => console.log(JSON.stringify(i)));
  `).value.path;
});
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
const snapshot = () => snapshotFile;

test('--help and -h print usage on stdout and exit 0; --version prints the version', () => {
  for (const flag of ['--help', '-h']) {
    const r = run(flag);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage:\n {2}heapscope summary/);
    assert.match(r.stdout, /exit codes: 0 done, 1 .*, 2 usage/);
    assert.equal(r.stderr, '');
  }
  const v = run('--version');
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), require('../package.json').version);
});

test('<command> --help prints that command’s options and exits 0', () => {
  for (const command of ['summary', 'diff', 'leaks', 'report']) {
    const r = run(command, '--help');
    assert.equal(r.status, 0, command);
    assert.match(r.stdout, new RegExp(`^usage: heapscope ${command} `));
    assert.match(r.stdout, /--json|--vs/);
  }
});

test('a mistyped command gets the nearest one suggested, exit 2; a bad option names itself', () => {
  const r = run('sumary', 'x.heapsnapshot');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command sumary; did you mean `heapscope summary`\?/);
  const far = run('frobnicate');
  assert.equal(far.status, 2);
  assert.doesNotMatch(far.stderr, /did you mean/);
  const option = run('summary', 'x.heapsnapshot', '--frob');
  assert.equal(option.status, 2);
  assert.match(option.stderr, /Unknown option '--frob'/);
  const value = run('summary', 'x.heapsnapshot', '--top=many');
  assert.equal(value.status, 2);
  assert.match(value.stderr, /--top needs a whole number, not "many"/);
  for (const command of [['summary', 'x'], ['diff', 'x', 'y'], ['leaks', 'x', 'y'], ['report', 'x']]) {
    const none = run(...command, '--threads', '0');
    assert.equal(none.status, 2, command[0]);
    assert.match(none.stderr, /--threads needs a whole number of at least 1, not "0"/);
  }
  for (const command of [['leaks', 'x', 'y'], ['report', 'x']]) {
    const floor = run(...command, '--min-growth', '1x');
    assert.equal(floor.status, 2, command[0]);
    assert.match(floor.stderr, /--min-growth needs a size such as 4KB, 1\.5MB or 0, not "1x"/);
  }
});

test('--threads 1 gives the same answer as the default', () => {
  const file = snapshot();
  const [one, all] = [run('summary', file, '--json', '--threads', '1'), run('summary', file, '--json')];
  assert.equal(one.status, 0, one.stderr);
  const strip = (text) => ({ ...JSON.parse(text), parseMs: 0, analyzeMs: 0 });
  assert.deepEqual(strip(one.stdout), strip(all.stdout));
  const diff = run('diff', file, file, '--json', '--threads', '1');
  assert.equal(diff.status, 0, diff.stderr);
});

test('--top=5 equals --top 5; --json without --top gives every class row; no progress when stderr is not a terminal', (t) => {
  const file = snapshot();
  const a = run('summary', file, '--json', '--top=5');
  const b = run('summary', file, '--json', '--top', '5');
  assert.equal(a.status, 0, a.stderr);
  const [ja, jb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
  assert.equal(ja.classes.length, 5);
  assert.deepEqual(
    ja.classes.map((c) => [c.name, c.retainedSize]),
    jb.classes.map((c) => [c.name, c.retainedSize]),
  );
  const all = run('summary', file, '--json');
  assert.equal(all.status, 0, all.stderr);
  const whole = JSON.parse(all.stdout);
  assert.equal(whole.classes.length, whole.classCount, 'every class row');
  assert.ok(whole.classes.some((c) => c.name === 'CliRow' && c.count === 300));
  assert.equal(all.stderr, '', 'silent on stderr when it is not a terminal');
});

test('on a terminal, the analysis shows its phase and percent on stderr', (t) => {
  const file = snapshot();
  // script(1) gives the command a pseudo-terminal; its output is what the terminal saw.
  const r = spawnSync('script', ['-qec', `${process.execPath} ${bin} summary ${file} --top 1`, '/dev/null'], { encoding: 'utf8' });
  if (r.error) {
    t.skip('script(1) is not available');
    return;
  }
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /\r\x1b\[Kreading \d+%/);
  assert.match(r.stdout, /Largest classes by retained size/);
});

test('a snapshot on standard input or through a pipe is read as a stream (`-`, /dev/stdin, gzip too)', () => {
  const file = snapshot();
  const plain = spawnSync('sh', ['-c', `cat "${file}" | "${process.execPath}" "${bin}" summary - --json --top 3`], { encoding: 'utf8' });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(JSON.parse(plain.stdout).classes.length, 3);
  const gz = spawnSync('sh', ['-c', `gzip -c "${file}" | "${process.execPath}" "${bin}" summary /dev/stdin --json --top 3`], { encoding: 'utf8' });
  assert.equal(gz.status, 0, gz.stderr);
  assert.deepEqual(JSON.parse(gz.stdout).classes, JSON.parse(plain.stdout).classes);
});

test('a FIFO nobody writes to is an error at once, not a hang', () => {
  const fifo = path.join(dir, 'empty-fifo');
  spawnSync('mkfifo', [fifo]);
  const r = spawnSync(process.execPath, [bin, 'summary', fifo], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.error, undefined, 'finished in time');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot analyse .*empty-fifo/);
});
