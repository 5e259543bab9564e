'use strict';
// The live view's front door, as an attacker would knock: no request can
// crash the process, and Host names are parsed strictly.

const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { spawnNode } = require('./helpers');

function get(port, pathname, host) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: pathname, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

async function liveView(t) {
  const child = spawnNode(t, `heapscope.serve({ port: 0 }).then(() => setInterval(() => {}, 1000));`);
  for (let i = 0; i < 200 && !/live view at /.test(child.stderrText); i++) await new Promise((r) => setTimeout(r, 50));
  const { port, searchParams } = new URL(/live view at (\S+)/.exec(child.stderrText)[1]);
  return { child, port, token: searchParams.get('token') };
}

test('a token of the right length in characters but not in bytes is refused, and the process lives', async (t) => {
  const { child, port, token } = await liveView(t);
  const forged = `${token.slice(0, -1)}é`;
  assert.equal(forged.length, token.length);
  assert.equal(await get(port, `/?token=${encodeURIComponent(forged)}`, `127.0.0.1:${port}`), 403);
  assert.equal(await get(port, `/?token=${token}`, `127.0.0.1:${port}`), 200, 'still serving');
  assert.equal(child.exitCode, null, child.stderrText);
});

test('Host names are parsed strictly: [::1]evil and friends are refused', async (t) => {
  const { port, token } = await liveView(t);
  for (const host of [`[::1]evil:${port}`, `[::1]evil`, `localhost:${port}@evil.example`, `127.0.0.1:${port}:1`, `localhost.:x`, 'evil.example']) {
    assert.equal(await get(port, `/?token=${token}`, host), 403, host);
  }
  for (const host of [`[::1]:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, '127.0.0.1']) {
    assert.equal(await get(port, `/?token=${token}`, host), 200, host);
  }
});
