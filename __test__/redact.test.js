'use strict';
// Reports and the live view carry figures, not heap contents: a secret held
// in a string, and the machine's directories, stay out of the page unless
// asked for.

const test = require('node:test');
const assert = require('node:assert');
const { scratch, runNodeJson } = require('./helpers');

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
