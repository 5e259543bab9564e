'use strict';
// memlab's side: what `memlab analyze` does before any report — parse the
// snapshot, then shortest paths, dominators and retained sizes for every
// node (@memlab/core's getSnapshotFromFile + preparePathFinder) — then the
// self and retained size per class name.
const { utils, analysis } = require(process.env.MEMLAB_CORE);

(async () => {
  const snapshot = await utils.getSnapshotFromFile(process.argv[2], { buildNodeIdIndex: true });
  analysis.preparePathFinder(snapshot);
  const classes = new Map();
  snapshot.nodes.forEach((node) => {
    const row = classes.get(node.name) || { count: 0, self: 0 };
    row.count += 1;
    row.self += node.self_size;
    classes.set(node.name, row);
  });
  process.stdout.write(JSON.stringify({ nodeCount: snapshot.nodes.length, classCount: classes.size }));
})();
