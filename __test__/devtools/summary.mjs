// Loads a snapshot with Chrome DevTools' heap snapshot worker and prints its
// Summary numbers as JSON: node summary.mjs <file> [id,id,…]
// or its Comparison view of two snapshots: node summary.mjs --diff <before> <after>
// or what its views show of some objects and classes:
// node summary.mjs --explore <file> <id,id,…> <classKey\nclassKey…>
import fs from 'node:fs';
import { MessageChannel } from 'node:worker_threads';

// Node 20 lacks Promise.withResolvers, which the worker uses.
Promise.withResolvers ??= function withResolvers() {
  let resolve, reject;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

const { HeapSnapshotLoader } = await import('./entrypoints/heap_snapshot_worker/HeapSnapshotLoader.js');
const { SecondaryInitManager } = await import('./entrypoints/heap_snapshot_worker/HeapSnapshot.js');

async function load(file) {
  const loader = new HeapSnapshotLoader({ sendEvent() {} });
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) loader.write(chunk);
  loader.close();
  const { port1, port2 } = new MessageChannel();
  new SecondaryInitManager(port2);
  const snapshot = await loader.buildSnapshot(port1);
  port1.close();
  port2.close();
  return snapshot;
}

/** Every item of a provider, in the order of `comparator` (a view's sort). */
function items(provider, comparator) {
  provider.sortAndRewind(comparator);
  return provider.serializeItemsRange(0, Number.MAX_SAFE_INTEGER).items;
}

const args = process.argv.slice(2);
if (args[0] === '--explore') {
  const { ComparatorConfig, NodeFilter } = (await import('./models/heap_snapshot/heap_snapshot.js')).HeapSnapshotModel;
  const snapshot = await load(args[1]);
  const nodes = {};
  for (const id of args[2].split(',').filter(Boolean).map(Number)) {
    const index = snapshot.nodeIndexForId(id);
    if (index === undefined) continue;
    // The Summary's children (sorted by retained size) and the Retainers view (by distance).
    const edges = items(snapshot.createEdgesProvider(index), new ComparatorConfig('retainedSize', false, '!edgeName', true));
    const retainers = items(snapshot.createRetainingEdgesProvider(index), new ComparatorConfig('!edgeDistance', true, 'name', true));
    // The first retaining path: the first retainer at each level.
    const path = [];
    for (let forest = snapshot.getRetainingPaths(index).paths; forest.length > 0; forest = forest[0].children) {
      path.push([forest[0].edgeName, forest[0].nodeId]);
    }
    nodes[id] = {
      edges: edges.map((e) => [e.name, e.type, e.node.id]),
      retainers: retainers.map((e) => [e.name, e.type, e.node.id]),
      path,
      // The chain starts at the node itself.
      dominators: snapshot.getDominatorsOf(index).slice(1).map((d) => d.nodeId),
    };
  }
  const instances = {};
  for (const key of (args[3] || '').split('\n').filter(Boolean)) {
    const provider = snapshot.createNodesProviderForClass(key, new NodeFilter());
    instances[key] = items(provider, new ComparatorConfig('retainedSize', false, 'id', true)).map((n) => n.id);
  }
  process.stdout.write(JSON.stringify({ nodes, instances, statistics: snapshot.getStatistics() }));
} else if (args[0] === '--diff') {
  // What the Comparison view does: the base is aggregated with the later
  // snapshot's interface definitions, then each class is merged by id.
  const [before, after] = [await load(args[1]), await load(args[2])];
  const aggregates = before.aggregatesForDiff(after.interfaceDefinitions());
  const classes = {};
  for (const [key, d] of Object.entries(after.calculateSnapshotDiff('before', aggregates))) {
    classes[key] = { name: d.name, addedCount: d.addedCount, removedCount: d.removedCount, addedSize: d.addedSize, removedSize: d.removedSize };
  }
  process.stdout.write(JSON.stringify({ classes }));
} else {
  const [file, idList = ''] = args;
  const snapshot = await load(file);
  const classes = {};
  for (const [key, a] of Object.entries(snapshot.getAggregatesByClassKey(false, 'allObjects'))) {
    classes[key] = { name: a.name, count: a.count, self: a.self, retained: a.maxRet, distance: a.distance };
  }
  const retainedById = {};
  for (const id of idList.split(',').filter(Boolean).map(Number)) {
    const index = snapshot.nodeIndexForId(id);
    retainedById[id] = index === undefined ? null : snapshot.createNode(index).retainedSize();
  }
  process.stdout.write(JSON.stringify({ nodeCount: snapshot.nodeCount, totalSize: snapshot.totalSize, classes, retainedById }));
}
