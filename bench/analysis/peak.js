'use strict';
// Preloaded (`node -r`) into every analyser the benchmark runs: reports the
// process's own peak RSS and wall time from start to exit on stderr.
const started = process.hrtime.bigint();
process.on('exit', () => {
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stderr.write(`\nBENCH ${JSON.stringify({ wallMs, peakRssMb })}\n`);
});
