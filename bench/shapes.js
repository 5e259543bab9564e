'use strict';
// Adversarial snapshot shapes, written as V8 writes snapshots (same meta,
// same fields), streamed to disk so that any size fits: what a real heap
// rarely looks like but a leaking one can (a linked list millions deep, one
// array holding everything), next to a service-shaped heap of the same size
// for the per-byte comparison.
//
//   node bench/shapes.js <shape> <nodes> <out.heapsnapshot>
//
// shapes:
//   service   root → (GC roots) → global → 1,000 modules → objects of 3–6 properties, strings, arrays
//   chain     root → global → one linked list of <nodes> objects (next, value)
//   fanout    root → global → one array with <nodes> elements
//   tree      root → global → a complete binary tree (left, right)
//   cycles    root → global → <nodes>/4 rings of 4 objects, each ring held by an array entry

const fs = require('node:fs');

const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape'];
const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];
const T = Object.fromEntries(NODE_TYPES.map((t, i) => [t, i]));
const E = Object.fromEntries(EDGE_TYPES.map((t, i) => [t, i]));
const FIELDS = 6; // type, name, id, self_size, edge_count, trace_node_id

/** Buffered writer: the JSON is far larger than any string V8 allows. */
class Out {
  constructor(file) {
    this.fd = fs.openSync(file, 'w', 0o600);
    this.parts = [];
    this.size = 0;
  }
  write(text) {
    this.parts.push(text);
    this.size += text.length;
    if (this.size > 1 << 22) this.flush();
  }
  flush() {
    fs.writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/**
 * A shape is `count` nodes, each given by `node(i)` → [type, nameIndex,
 * selfSize, edges] with edges [type, nameOrIndex, toOrdinal]. Nodes 0–2 are
 * the root, (GC roots) and global, whatever the shape.
 */
function write(file, count, strings, node) {
  const out = new Out(file);
  let edgeCount = 0;
  for (let i = 0; i < count; i++) edgeCount += node(i)[3].length;
  out.write(`{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id"],`);
  out.write(`"node_types":[${JSON.stringify(NODE_TYPES)},"string","number","number","number","number"],`);
  out.write(`"edge_fields":["type","name_or_index","to_node"],"edge_types":[${JSON.stringify(EDGE_TYPES)},"string_or_number","node"],`);
  out.write(`"trace_function_info_fields":[],"trace_node_fields":[],"sample_fields":[],"location_fields":[]},`);
  out.write(`"node_count":${count},"edge_count":${edgeCount},"trace_function_count":0},\n"nodes":[`);
  for (let i = 0; i < count; i++) {
    const [type, name, size, edges] = node(i);
    out.write(`${i ? ',' : ''}${type},${name},${2 * i + 1},${size},${edges.length},0\n`);
  }
  out.write('],\n"edges":[');
  let first = true;
  for (let i = 0; i < count; i++) {
    for (const [type, name, to] of node(i)[3]) {
      out.write(`${first ? '' : ','}${type},${name},${to * FIELDS}\n`);
      first = false;
    }
  }
  out.write(`],\n"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[],\n"strings":${JSON.stringify(strings)}}`);
  out.close();
  return { nodes: count, edges: edgeCount, bytes: fs.statSync(file).size };
}

// Strings every shape uses; indexes into this list.
const S = ['', '(GC roots)', 'global', 'Object', 'next', 'value', 'left', 'right', 'Array', 'Node', 'data', 'system / Context', 'a', 'b', 'c', 'd', 'e', 'f', 'Module', 'items', 'text', 'ring'];
const s = (name) => S.indexOf(name);
const common = (i, globalEdges) => {
  if (i === 0) return [T.synthetic, 0, 0, [[E.element, 1, 1], [E.shortcut, s('global'), 2]]];
  if (i === 1) return [T.synthetic, s('(GC roots)'), 0, [[E.element, 1, 2]]];
  return [T.object, s('global'), 64, globalEdges];
};

const SHAPES = {
  chain(n) {
    return (i) => {
      if (i < 3) return common(i, [[E.property, s('data'), 3]]);
      const edges = [[E.property, s('value'), 3]]; // to itself's neighbour: a number-like leaf below
      if (i + 1 < n) edges[0] = [E.property, s('next'), i + 1];
      return [T.object, s('Node'), 32, edges];
    };
  },
  fanout(n) {
    return (i) => {
      if (i < 3) return common(i, [[E.property, s('items'), 3]]);
      if (i === 3) {
        const edges = [];
        for (let k = 4; k < n; k++) edges.push([E.element, k - 4, k]);
        return [T.array, s('Array'), 16 + 8 * (n - 4), edges];
      }
      return [T.object, s('Object'), 24, []];
    };
  },
  tree(n) {
    return (i) => {
      if (i < 3) return common(i, [[E.property, s('data'), 3]]);
      const k = i - 3; // heap order from node 3
      const edges = [];
      if (2 * k + 1 + 3 < n) edges.push([E.property, s('left'), 2 * k + 1 + 3]);
      if (2 * k + 2 + 3 < n) edges.push([E.property, s('right'), 2 * k + 2 + 3]);
      return [T.object, s('Node'), 32, edges];
    };
  },
  cycles(n) {
    const rings = Math.floor((n - 4) / 4);
    return (i) => {
      if (i < 3) return common(i, [[E.property, s('items'), 3]]);
      if (i === 3) {
        const edges = [];
        for (let r = 0; r < rings; r++) edges.push([E.element, r, 4 + 4 * r]);
        return [T.array, s('Array'), 16 + 8 * rings, edges];
      }
      const k = (i - 4) % 4;
      const next = k === 3 ? i - 3 : i + 1;
      return [T.object, s('Object'), 32, [[E.property, s('ring'), next]]];
    };
  },
  service(n) {
    // global → modules → records (3–6 properties) → a string each, and an array per module.
    const modules = 1000;
    const perModule = Math.max(1, Math.floor((n - 3 - modules) / modules));
    return (i) => {
      if (i < 3) {
        const edges = [];
        for (let m = 0; m < modules; m++) edges.push([E.property, s('Module'), 3 + m]);
        return common(i, edges);
      }
      if (i < 3 + modules) {
        const m = i - 3;
        const base = 3 + modules + m * perModule;
        const edges = [];
        for (let k = 0; k < perModule && base + k < n; k += 3) edges.push([E.element, k / 3, base + k]);
        return [T.array, s('Array'), 16 + 8 * edges.length, edges];
      }
      const k = (i - 3 - modules) % 3;
      // a record (object) → its string and its nested object; the nested object → the string
      if (k === 0) {
        const edges = [];
        if (i + 1 < n) edges.push([E.property, s('text'), i + 1]);
        if (i + 2 < n) edges.push([E.property, s('data'), i + 2]);
        for (const p of ['a', 'b', 'c', 'd'].slice(0, i % 4)) if (i + 1 < n) edges.push([E.property, s(p), i + 1]);
        return [T.object, s('Object'), 24 + 8 * edges.length, edges];
      }
      if (k === 1) return [T.string, s('text'), 32, []];
      return [T.object, s('Object'), 32, i - 1 >= 0 ? [[E.property, s('e'), i - 1]] : []];
    };
  },
};

if (require.main === module) {
  const [shape, count, file] = process.argv.slice(2);
  if (!SHAPES[shape] || !(Number(count) > 10) || !file) {
    console.error(`usage: node bench/shapes.js <${Object.keys(SHAPES).join('|')}> <nodes> <out.heapsnapshot>`);
    process.exit(2);
  }
  const n = Number(count);
  console.log(JSON.stringify({ shape, file, ...write(file, n, S, SHAPES[shape](n)) }));
}

module.exports = { SHAPES, write };
