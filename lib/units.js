'use strict';
// Sizes as people write them in config: 512MB, 1.5GiB, 2g.
//
// Units are binary, as in Node's --max-old-space-size and most memory tools
// (512MB = 512 × 1024² bytes); Kubernetes' Ki/Mi/Gi are accepted as the same.

const { invalidArg } = require('./errors');

const SCALE = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A size in bytes from a number or a string such as "512MB"; 0 only when `zero` allows it. */
function parseSize(name, value, { zero = false } = {}) {
  if (zero && (value === 0 || (typeof value === 'string' && /^\s*0+(?:\.0+)?\s*([kmgt]i?b?|b)?\s*$/i.test(value)))) return 0;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.floor(value);
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b?)|(b))?\s*$/i.exec(value);
    if (m) {
      const unit = (m[2] || m[3] || '').toLowerCase();
      const bytes = Math.floor(Number(m[1]) * SCALE[unit]);
      if (bytes > 0) return bytes;
    }
  }
  throw invalidArg(name, `a ${zero ? 'non-negative' : 'positive'} number of bytes or a size such as "512MB"`, value);
}

const PERIOD = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A period in milliseconds from a string such as "30m", "1h30m", "45s" or "250ms"; a unit is required. */
function parseDuration(name, value) {
  if (typeof value === 'string' && /^\s*(\d+(?:\.\d+)?\s*(ms|s|m|h|d)\s*)+$/i.test(value)) {
    let ms = 0;
    for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gi)) ms += Number(n) * PERIOD[unit.toLowerCase()];
    if (ms > 0) return Math.round(ms);
  }
  throw invalidArg(name, 'a period with a unit such as "30m", "1h" or "45s"', value);
}

/**
 * Bytes as people read them: `512 B`, `1.5 MB`, binary units. The one rule
 * for sizes heapscope prints: the CLI and the report pages (whose script
 * carries this function's own source) use it.
 */
function formatSize(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
  return bytes < 0 ? `-${text}` : text;
}

module.exports = { parseSize, parseDuration, formatSize };
