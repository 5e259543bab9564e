'use strict';
// heapscope's side of the benchmark: analyze() the file, print the class rows
// as JSON. With --lateness, a 10 ms interval timer runs meanwhile and the
// largest lateness it saw is printed too.
const heapscope = require('../..');

const [file, flag] = process.argv.slice(2);
let worst = 0;
let timer;
if (flag === '--lateness') {
  let expected = performance.now() + 10;
  timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - expected);
    expected = now + 10;
  }, 10);
}
heapscope.analyze(file, { topClasses: 1e9, topObjects: 25 }).then((summary) => {
  clearInterval(timer);
  const classes = {};
  for (const c of summary.classes) classes[c.key] = { count: c.count, self: c.selfSize, retained: c.retainedSize };
  const objects = summary.objects.map((o) => [o.id, o.retainedSize]);
  process.stdout.write(JSON.stringify({ nodeCount: summary.nodeCount, totalSize: summary.totalSize, classes, objects, latenessMs: worst }));
});
