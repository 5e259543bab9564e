'use strict';
// Heap contents stay out of what heapscope writes: redacted snapshot files
// (every planted secret gone, the file still DevTools' and the analysis's),
// and report pages and the live view, which carry figures, not values.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { scratch, runNodeJson, spawnNode, sleep, waitForOutput, waitForSnapshots } = require('./helpers');
const devtools = require('./devtools/reference');

// Secrets made at run time, as flat strings (the secrets appear nowhere in
// this source), planted everywhere a heap keeps text: a long string, a
// concatenation, a slice, a closure's variable, a Map key, the key of an
// object used as a map (in V8's dictionary mode, and in fast mode, as a small
// one stays), an array element and a WeakMap value. `secrets` maps each
// place to its secret.
const PLANT = `
  const crypto = require('node:crypto');
  const flat = (text) => Buffer.from(text).toString('latin1');
  const secrets = {};
  const plant = (place) => (secrets[place] = flat(place.toUpperCase() + '-' + crypto.randomBytes(12).toString('hex')));
  globalThis.long = flat(plant('long') + 'x'.repeat(100000));
  globalThis.cons = plant('concatenated') + ' ' + 'y'.repeat(40);
  const parent = flat('p'.repeat(20) + plant('sliced') + 'q'.repeat(200));
  globalThis.sliced = parent.slice(20, 20 + secrets.sliced.length);
  globalThis.fn = ((v) => () => v)(plant('closure'));
  globalThis.map = new Map([[plant('mapkey'), 1]]);
  globalThis.dict = {};
  for (let i = 0; i < 40; i++) dict['k' + crypto.randomBytes(4).toString('hex')] = i;
  dict[plant('dictkey')] = { held: true };
  globalThis.sessions = {};
  for (let i = 0; i < 3; i++) sessions[flat('user' + i + crypto.randomBytes(4).toString('hex'))] = { i };
  sessions[plant('fastkey')] = { held: true };
  globalThis.list = [plant('element')];
  globalThis.weakKey = {};
  globalThis.weak = new WeakMap([[weakKey, plant('weakvalue')]]);
`;

/** The file's text, gunzipped when it is gzip. */
function text(file) {
  const bytes = fs.readFileSync(file);
  return (file.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes).toString('latin1');
}

function leaked(file, secrets) {
  const body = text(file);
  return Object.entries(secrets).filter(([, secret]) => body.includes(secret)).map(([place]) => place);
}

test('snapshot({ redact: true }): no planted secret in the file, plain or gzip, nor in a worker\'s; DevTools opens it; same class rows', async (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(
    `${PLANT}
    const { Worker } = require('node:worker_threads');
    const dir = ${JSON.stringify(dir)};
    const inWorker = () => new Promise((resolve, reject) => {
      const w = new Worker(\`
        const heapscope = require(\${JSON.stringify(${JSON.stringify(path.resolve(__dirname, '..'))})});
        const { parentPort } = require('node:worker_threads');
        const secret = Buffer.from('WORKER-' + require('node:crypto').randomBytes(12).toString('hex')).toString('latin1');
        globalThis.held = [secret];
        (async () => {
          await heapscope.snapshot({ dir: \${JSON.stringify(dir)}, filename: 'worker-plain.heapsnapshot' });
          await heapscope.snapshot({ dir: \${JSON.stringify(dir)}, filename: 'worker.heapsnapshot', redact: true });
          parentPort.postMessage(secret);
        })();\`, { eval: true });
      w.once('message', resolve);
      w.once('error', reject);
    });
    (async () => {
      await heapscope.snapshot({ dir, filename: 'plain.heapsnapshot' });
      const red = await heapscope.snapshot({ dir, filename: 'red.heapsnapshot', redact: true });
      const gz = await heapscope.snapshot({ dir, filename: 'red.heapsnapshot.gz', redact: true, gzip: true });
      const analyzed = await heapscope.snapshot({ dir, filename: 'analyzed.heapsnapshot', redact: true, analyze: true, topClasses: 1e9 });
      const worker = await inWorker();
      const { classes, totalSize } = analyzed.summary;
      console.log(JSON.stringify({ secrets, worker, red, gz: gz.redacted, classes, totalSize, analyzedPath: analyzed.path }));
    })();`,
    { timeout: 120_000 },
  );
  const { secrets } = value;
  const file = (name) => path.join(dir, name);
  // The planting works: every secret is in the unredacted file.
  assert.deepEqual(leaked(file('plain.heapsnapshot'), secrets), Object.keys(secrets));
  assert.deepEqual(leaked(file('worker-plain.heapsnapshot'), { worker: value.worker }), ['worker']);
  for (const name of ['red.heapsnapshot', 'red.heapsnapshot.gz', 'analyzed.heapsnapshot']) {
    assert.deepEqual(leaked(file(name), secrets), [], `${name} holds no secret`);
  }
  assert.deepEqual(leaked(file('worker.heapsnapshot'), { worker: value.worker }), [], 'the worker\'s file holds no secret');
  assert.ok(value.red.redacted.strings > 100 && value.red.redacted.bytes > 100_000, JSON.stringify(value.red.redacted));
  assert.ok(value.red.redacted.keys >= 1 && value.gz.strings > 100);

  // The analysis of the redacted file equals that of what V8 wrote, row by
  // row, but for plain objects: DevTools names (and matches) them after
  // their property names' text ({id, items}), which tokens replace where
  // the names were data; those rows have the same objects in all.
  const heapscope = require('..');
  const again = await heapscope.analyze(value.analyzedPath, { topClasses: 1e9 });
  const plain = (c) => c.name === 'Object' || c.name.startsWith('{');
  const rows = (classes) => Object.fromEntries(classes.map((c) => [c.key, [c.count, c.selfSize, c.retainedSize]]));
  assert.deepEqual(rows(again.classes.filter((c) => !plain(c))), rows(value.classes.filter((c) => !plain(c))));
  const all = (classes, pick) => classes.filter(plain).reduce((total, c) => total + pick(c), 0);
  assert.equal(all(again.classes, (c) => c.count), all(value.classes, (c) => c.count));
  assert.equal(all(again.classes, (c) => c.selfSize), all(value.classes, (c) => c.selfSize));
  assert.equal(again.totalSize, value.totalSize);

  const reference = devtools.prepare();
  if (!reference) return t.diagnostic('chrome-devtools-frontend is not installed: DevTools\' load not checked');
  const opened = devtools.summarize(reference, file('red.heapsnapshot'));
  const ours = await heapscope.analyze(file('red.heapsnapshot'), { topClasses: 1e9 });
  assert.equal(opened.nodeCount, ours.nodeCount);
  assert.deepEqual(
    Object.fromEntries(Object.entries(opened.classes).map(([k, c]) => [k, [c.count, c.self, c.retained]])),
    rows(ours.classes),
  );
  t.diagnostic(`${value.red.redacted.strings} strings (${value.red.redacted.bytes} bytes, ${value.red.redacted.keys} keys) redacted`);
});

test('HEAPSCOPE_REDACT=1: kill -USR2 during a busy loop writes a file without the secrets', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(t, `${PLANT}\nconsole.log(JSON.stringify(secrets)); while (true) {}`, {
    cwd: dir,
    env: { HEAPSCOPE_REDACT: '1' },
  });
  await waitForOutput(child, '}');
  const secrets = JSON.parse(child.stdoutText.trim());
  process.kill(child.pid, 'SIGUSR2');
  const [name] = await waitForSnapshots(dir, 1, 30_000);
  assert.deepEqual(leaked(path.join(dir, name), secrets), []);
  assert.match(text(path.join(dir, name)), /<redacted:[0-9a-f]{12}>/);
  // The line follows the rename.
  for (let i = 0; i < 100 && !child.stderrText.includes('redacted'); i++) await sleep(50);
  assert.match(child.stderrText, /heap snapshot written to .* \(\d+\.\d MB, \d+ strings redacted, paused \d+ ms, on signal SIGUSR2\)/);
});

test('without the V8 shim: snapshot() still redacts Node\'s stream; writeSnapshot() refuses rather than let Node write the text', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(
    `${PLANT}
    let error = null;
    const ok = heapscope.writeSnapshot(${JSON.stringify(path.join(dir, 'sync.heapsnapshot'))}, (err) => {
      error = err && { message: err.message, code: err.code, detail: err.detail };
    });
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'async.heapsnapshot' }).then((info) => {
      console.log(JSON.stringify({ ok, error, secrets, redacted: info.redacted, shim: heapscope.versions.shim }));
    });`,
    { env: { HEAPSCOPE_SHIM: 'off', HEAPSCOPE_REDACT: '1' } },
  );
  assert.equal(value.shim, null);
  assert.equal(value.ok, false);
  assert.equal(value.error.message, 'heapdump write error ERR_HEAPSCOPE_NO_SHIM');
  assert.match(value.error.detail, /redacted writeSnapshot\(\) needs the V8 shim/);
  assert.deepEqual(fs.readdirSync(dir), ['async.heapsnapshot'], 'nothing of the refused snapshot on disk');
  assert.deepEqual(leaked(path.join(dir, 'async.heapsnapshot'), value.secrets), []);
  assert.ok(value.redacted.strings > 100);
});

test('renderReport() leaves strings\' values and directories out, unless { values: true }', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    globalThis.config = { token: Buffer.from('TOPSECRET-' + 'k'.repeat(300000)).toString() };
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, analyze: true, topObjects: 20 }).then((info) => {
      const held = info.summary.objects.some((o) => o.name.startsWith('TOPSECRET-'));
      console.log(JSON.stringify({
        held,
        page: heapscope.renderReport({ summary: info.summary }),
        asked: heapscope.renderReport({ summary: info.summary }, { values: true }),
      }));
    });
  `);
  assert.ok(value.held, 'the secret is among the largest objects, so a page could carry it');
  assert.doesNotMatch(value.page, /TOPSECRET/);
  assert.ok(!value.page.includes(dir), 'no directory of this machine');
  assert.match(value.page, /\(string\)/);
  assert.match(value.asked, /TOPSECRET/);
});
