// Type-checked with tsc --strict against index.d.mts / index.d.ts
// (__test__/types.test.js): code a user writes must compile.
import heapscope, { snapshot, analyze, watch, writeSnapshot, versions, type Summary, type AnalyzeProgress } from 'heapscope';

const shim: string | null = versions.shim;
const ok: boolean = writeSnapshot('/tmp/x.heapsnapshot', (err, file) => {
  if (err) console.error(err.code, err.detail);
  else console.log(file);
});

const progress = (p: AnalyzeProgress): string => (p.fraction === null ? p.phase : `${p.phase} ${Math.round(p.fraction * 100)}%`);

async function main(): Promise<void> {
  const info = await snapshot({ dir: '/tmp', gzip: true });
  const shared = await snapshot({ redact: true, preflight: true, memoryFactor: 10 });
  heapscope.startSampling({ intervalBytes: 64 * 1024 });
  const sites = heapscope.sampleProfile().topSites(3).map((s) => `${s.functionName} ${s.url}:${s.lineNumber} ${s.selfSize}`);
  const chrome: string = JSON.stringify(heapscope.sampleProfile().toHeapProfile());
  heapscope.stopSampling();
  console.log(sites, chrome.length);
  heapscope.events.on('skipped', (s) => console.log(s.trigger, s.needed, s.available));
  const replaced: number = shared.redacted ? shared.redacted.strings + shared.redacted.keys : 0;
  console.log(replaced);
  const summary: Summary = await analyze(info.path, { topClasses: 5, onProgress: (p) => console.log(progress(p)) });
  const where: string | null = summary.path;
  for (const c of summary.classes) console.log(c.name, c.count, c.retainedSize);
  const streamed = await heapscope.snapshot({ analyze: true, write: false });
  console.log(streamed.summary.path === null, where, shim, ok);
  const watcher = watch({ heapUsed: '1GB', nearHeapLimit: true, redact: true, everyMs: 30 * 60_000 });
  const period: number | null = watcher.everyMs;
  console.log(period);
  if (!watcher.stopped && watcher.nearHeapLimit > 0) watcher.stop();
  const heap = await heapscope.open('x.heapsnapshot', { priority: 'normal' });
  const obj = await heap.node('@123', { limit: 5 });
  if (obj) for (const e of obj.edges.items) console.log(e.name, e.type, e.node.className, e.node.retainedSize);
  const trail = await heap.path(123);
  console.log(trail?.text, (await heap.instances('Map')).total, heap.nodeCount);
  heap.close();
  const session = heapscope.session({ allocationSites: 'sampling', samplingInterval: '64KB' });
  await session.mark('baseline');
  const report = await session.leaks();
  for (const m of report.marks) console.log(m.name, m.at, 'path' in m ? m.nodeCount : 'final');
  for (const site of report.suspects[0]?.allocationSites ?? []) console.log(site.functionName, site.line, site.sampled ? '~' : '', site.count);
}
void main();
