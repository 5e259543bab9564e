'use strict';
// A real service-shaped heap, written by V8's own writer: sessions with users,
// unique tokens and e-mail strings, per-session Maps, arrays of events,
// closures over request state, Buffers, a module-level cache — what a Node
// service holds, at any size. The snapshot's size is the argument; the
// record count comes from a measured bytes-per-record figure, so sizes land
// near the target (the script prints the real one).
//
//   node --max-old-space-size=16384 bench/service-heap.js <MB>[,<MB>…] <out.heapsnapshot>…
//
// With several sizes one heap grows through them and is written at each: a
// leak's baseline, target and final snapshots, for diff and leaks.
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

// Snapshot bytes one record costs (measured at 400 MB on Node 20).
const BYTES_PER_RECORD = 1760;

class User {
  constructor(i) {
    this.id = i;
    this.email = `user${i}@example.${i % 7 ? 'com' : 'org'}`;
    this.name = `User ${i.toString(36)}`;
    this.roles = i % 5 ? ['reader'] : ['reader', 'admin'];
  }
}

class Session {
  constructor(i, user) {
    this.id = `s-${i.toString(16)}`;
    this.user = user;
    this.token = `tok_${(i * 2654435761 >>> 0).toString(36)}${i.toString(36)}`;
    this.startedAt = 1_700_000_000_000 + i;
    this.headers = { 'user-agent': `client/${i % 97}`, accept: 'application/json', 'x-request-id': `r${i}` };
    this.events = [];
    for (let k = 0; k < 1 + (i % 4); k++) this.events.push({ at: k, kind: k % 2 ? 'read' : 'write', bytes: k * 128 });
    this.state = new Map([['step', i % 3], ['path', `/api/v1/items/${i % 1000}`]]);
    const started = this.startedAt;
    this.onClose = () => Date.now() - started;
    if (i % 16 === 0) this.body = Buffer.alloc(64, i & 0xff);
  }
}

/** Grows the heap to `records` sessions; called again, it grows the same heap further. */
function grow(heap, records) {
  const { users, sessions, byRoute } = heap;
  for (let i = sessions.size; i < records; i++) {
    const user = i % 3 === 0 || users.length === 0 ? new User(users.length) : users[i % users.length];
    if (user.id === users.length) users.push(user);
    const session = new Session(i, user);
    sessions.set(session.id, session);
    const route = `route${i % 500}`;
    (byRoute[route] ||= []).push(session);
  }
}

const newHeap = () => ({ users: [], sessions: new Map(), byRoute: Object.create(null) });
/** Records that make a snapshot of about `megabytes`. */
const recordsFor = (megabytes) => Math.max(1000, Math.round((megabytes * 1e6) / BYTES_PER_RECORD));

module.exports = { newHeap, grow, recordsFor };

if (require.main === module) {
  const [sizes, ...outs] = process.argv.slice(2);
  const megabytes = String(sizes).split(',').map(Number);
  if (!megabytes.every((mb) => mb > 0) || outs.length !== megabytes.length) {
    console.error('usage: node --max-old-space-size=16384 bench/service-heap.js <MB>[,<MB>…] <out.heapsnapshot>…');
    console.error('       several sizes: one heap grows through them, one snapshot (and file) at each');
    process.exit(2);
  }
  globalThis.service = newHeap();
  megabytes.forEach((mb, at) => {
    const records = recordsFor(mb);
    grow(globalThis.service, records);
    const written = v8.writeHeapSnapshot(path.resolve(outs[at]));
    const bytes = fs.statSync(written).size;
    console.log(JSON.stringify({ file: written, records, bytes, bytesPerRecord: Math.round(bytes / records) }));
  });
}
