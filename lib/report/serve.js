'use strict';
// serve(): the report page, live, on loopback. Samples and snapshot markers
// come from a monitor, summaries from analysing each snapshot written while
// it runs; the page receives them as server-sent events.
//
// A heap holds secrets, so does its picture: the server binds 127.0.0.1
// unless told otherwise, answers only requests carrying a random token
// (printed once), and refuses Host names other than loopback ones (DNS
// rebinding) unless they are listed. It never keeps the process alive.

const http = require('node:http');
const crypto = require('node:crypto');
const { renderReport, redact } = require('./index');
const { invalidArg } = require('../errors');
const { monitor: startMonitor, Monitor } = require('../monitor');
const { analyze } = require('../snapshot');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Hostname of a Host header without its port, or '' when the header is not
 * `name[:port]` or `[address][:port]` (RFC 9110), so that `[::1]evil` or
 * `localhost:80@evil` match nothing.
 */
function hostname(header) {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(header || '');
  return m ? m[1].toLowerCase() : '';
}

/** Constant-time comparison of bytes, whatever the given string holds. */
function tokenMatches(given, token) {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(token, 'utf8');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const { port = 0, host = '127.0.0.1', allowHosts = [], monitor, analyzeSnapshots = true, quiet = false, samples = 1000 } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArg('port', 'an integer from 0 to 65535', port);
  if (typeof host !== 'string' || host === '') throw invalidArg('host', 'a host name or address', host);
  if (!Array.isArray(allowHosts) || allowHosts.some((h) => typeof h !== 'string')) throw invalidArg('allowHosts', 'an array of host names', allowHosts);
  if (monitor !== undefined && !(monitor instanceof Monitor)) throw invalidArg('monitor', 'a heapscope monitor', monitor);
  for (const [name, value] of [['analyzeSnapshots', analyzeSnapshots], ['quiet', quiet]]) {
    if (typeof value !== 'boolean') throw invalidArg(name, 'a boolean', value);
  }
  return { port, host, allowHosts, monitor, analyzeSnapshots, quiet, samples };
}

/** Serves the live view; resolves once it listens. */
async function serve(options = {}) {
  const o = checkOptions(options);
  const own = o.monitor === undefined;
  const monitor = own ? startMonitor({ intervalMs: 1000, samples: o.samples }) : o.monitor;
  const token = crypto.randomBytes(24).toString('base64url');
  const allowed = new Set([...LOOPBACK, o.host.toLowerCase(), ...o.allowHosts.map((h) => h.toLowerCase())]);
  const clients = new Set();
  let summary = null;
  let leaks = null;

  const send = (event, value) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(value)}\n\n`;
    for (const res of clients) res.write(frame);
  };
  // What leaves the process: figures, never heap contents or directories.
  const onSample = (s) => send('sample', s);
  const onMarker = (m) => {
    send('marker', redact(m));
    if (!o.analyzeSnapshots || !m.path) return;
    analyze(m.path, { topClasses: 25, topObjects: 10 }).then(
      (s) => {
        summary = s;
        send('summary', redact(s));
      },
      (err) => send('problem', { message: err.message }),
    );
  };
  const onReport = (r) => {
    leaks = r;
    send('report', redact({ suspects: r.suspects, totalSizes: r.totalSizes }));
  };
  monitor.on('sample', onSample);
  monitor.on('marker', onMarker);
  monitor.on('report', onReport);

  // No exception of a request may reach the process: a failure is a 500.
  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('heapscope: internal error\n');
    }
  });

  function handle(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const refuse = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${text}\n`);
    };
    if (!allowed.has(hostname(req.headers.host))) return refuse(403, 'heapscope: this host name is not allowed');
    if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(403, 'heapscope: a valid token is needed');
    if (req.method !== 'GET') return refuse(405, 'heapscope: GET only');
    if (url.pathname === '/') {
      const live = { events: `/events?token=${encodeURIComponent(token)}`, keep: o.samples };
      const page = renderReport({ title: `heapscope live — pid ${process.pid}`, summary, leaks, timeline: monitor.timeline() }, { live });
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      });
      return res.end(page);
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': heapscope\n\n');
      req.socket.unref();
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return undefined;
    }
    return refuse(404, 'heapscope: not found');
  }
  server.on('connection', (socket) => socket.unref());
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address();
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${shown}:${port}/?token=${token}`;
  if (!o.quiet) process.stderr.write(`heapscope: live view at ${url}\n`);

  let closed = false;
  return {
    url,
    port,
    host: o.host,
    token,
    monitor,
    /** Ends every event stream, stops listening (and the monitor it started). */
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      monitor.off('sample', onSample);
      monitor.off('marker', onMarker);
      monitor.off('report', onReport);
      if (own) monitor.stop();
      for (const res of clients) res.end();
      clients.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

module.exports = { serve };
