// Runs in the browser, inlined into every page heapscope renders (the file
// report and the live view): draws the charts from the data embedded in the
// page as JSON. No modules, no network, no dependencies.
/* eslint-env browser */
(function heapscopePage() {
  'use strict';

  const SVG = 'http://www.w3.org/2000/svg';
  /** Bytes as people read them: lib/units.js' formatSize, whose source comes before this script. */
  const size = formatSize; // eslint-disable-line no-undef
  const count = (n) => n.toLocaleString('en-US');
  const signed = (n, format) => (n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : '0');

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function section(id, title, note) {
    const s = el('section', { id }, el('h2', { text: title }));
    if (note) s.append(el('p', { class: 'note', text: note }));
    return s;
  }

  /**
   * Horizontal bars: one row per item, the label left, the bar scaled to the
   * largest absolute value, the figure right. Negative values draw leftwards
   * from a middle axis (growth charts).
   */
  function bars(items, { label, value, figure, kind }) {
    const row = 22;
    const width = 900;
    const labelWidth = 330;
    const figureWidth = 110;
    const plot = width - labelWidth - figureWidth;
    const max = Math.max(1, ...items.map((i) => Math.abs(value(i))));
    const diverging = items.some((i) => value(i) < 0);
    const axis = labelWidth + (diverging ? plot / 2 : 0);
    const scale = (diverging ? plot / 2 : plot) / max;
    const chart = svg('svg', {
      class: `chart bars ${kind}`,
      viewBox: `0 0 ${width} ${items.length * row + 4}`,
      width: '100%',
      role: 'img',
    });
    items.forEach((item, i) => {
      const v = value(item);
      const y = i * row + 2;
      const g = svg('g', { class: 'bar', 'data-label': label(item), 'data-value': String(v) });
      g.append(svg('title', {}, `${label(item)}: ${figure(item)}`));
      const text = label(item);
      g.append(svg('text', { x: labelWidth - 8, y: y + 15, 'text-anchor': 'end', class: 'label' }, text.length > 48 ? `${text.slice(0, 47)}…` : text));
      const w = Math.max(1, Math.abs(v) * scale);
      g.append(svg('rect', { x: v < 0 ? axis - w : axis, y: y + 3, width: w, height: row - 8, class: v < 0 ? 'neg' : 'pos', rx: 2 }));
      g.append(svg('text', { x: width - 4, y: y + 15, 'text-anchor': 'end', class: 'figure' }, figure(item)));
      chart.append(g);
    });
    if (diverging) chart.append(svg('line', { x1: axis, x2: axis, y1: 0, y2: items.length * row + 4, class: 'axis' }));
    return chart;
  }

  /** A retainer path, expandable: the text on one line, the steps below. */
  function pathDetails(path, text, summaryText) {
    const d = el('details', { class: 'path' });
    d.append(el('summary', {}, el('span', { class: 'what', text: summaryText }), el('code', { text })));
    const ol = el('ol');
    for (const step of path) {
      ol.append(el('li', {}, el('code', { text: step.edge }), document.createTextNode(` ${step.className || step.name || ''}`), step.id ? el('span', { class: 'id', text: ` @${step.id}` }) : null));
    }
    d.append(ol);
    return d;
  }

  function table(columns, rows, cls) {
    const t = el('table', { class: cls || '' });
    const head = el('tr');
    for (const c of columns) head.append(el('th', { text: c.title, class: c.right ? 'num' : '' }));
    t.append(el('thead', {}, head));
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      for (const c of columns) {
        const td = el('td', { class: c.right ? 'num' : '' });
        const v = c.value(r);
        if (v instanceof Node) td.append(v);
        else td.textContent = v;
        if (c.raw) td.setAttribute('data-value', String(c.raw(r)));
        tr.append(td);
      }
      body.append(tr);
    }
    t.append(body);
    return t;
  }

  // --- sections ------------------------------------------------------------

  function renderSummary(root, summary) {
    const s = section(
      'classes',
      'Retained size by class',
      `${count(summary.nodeCount)} objects, ${size(summary.totalSize)} in all. Chrome DevTools' Summary view numbers: a class's retained size counts each object once, however many of its instances hold it.`,
    );
    s.querySelector('h2').setAttribute('data-value', String(summary.totalSize));
    const classes = summary.classes.slice(0, 25);
    s.append(bars(classes, { label: (c) => c.name, value: (c) => c.retainedSize, figure: (c) => size(c.retainedSize), kind: 'retained' }));
    s.append(
      table(
        [
          { title: 'class', value: (c) => c.name },
          { title: 'objects', value: (c) => count(c.count), raw: (c) => c.count, right: true },
          { title: 'self size', value: (c) => size(c.selfSize), raw: (c) => c.selfSize, right: true },
          { title: 'retained size', value: (c) => size(c.retainedSize), raw: (c) => c.retainedSize, right: true },
          { title: 'distance', value: (c) => String(c.distance), right: true },
        ],
        classes,
        'classes',
      ),
    );
    root.append(s);
    if (!summary.objects || summary.objects.length === 0) return;
    const o = section('objects', 'Largest objects', 'By retained size (what would be freed with them) and self size; open one for the path that keeps it alive.');
    const objects = summary.objects;
    o.append(el('h3', { text: 'by retained size' }));
    o.append(bars(objects, { label: (x) => `${x.className} @${x.id}`, value: (x) => x.retainedSize, figure: (x) => size(x.retainedSize), kind: 'objects-retained' }));
    const bySelf = objects.slice().sort((a, b) => b.selfSize - a.selfSize);
    o.append(el('h3', { text: 'by self size' }));
    o.append(bars(bySelf, { label: (x) => `${x.className} @${x.id}`, value: (x) => x.selfSize, figure: (x) => size(x.selfSize), kind: 'objects-self' }));
    o.append(el('h3', { text: 'Top retainer paths' }));
    const list = el('div', { class: 'paths' });
    for (const x of objects) list.append(pathDetails(x.path, x.pathText, `${size(x.retainedSize)} ${x.className} @${x.id}`));
    o.append(list);
    root.append(o);
  }

  function renderDiff(root, diff) {
    const [before, after] = diff.totalSizes || [];
    const s = section(
      'growth',
      'Growth by class',
      before === undefined ? null : `${size(before)} → ${size(after)} (${signed(after - before, size)}). Objects added and removed per class, as Chrome DevTools' Comparison view counts them.`,
    );
    const rows = diff.classes.slice(0, 25);
    s.append(bars(rows, { label: (c) => c.name, value: (c) => c.sizeDelta, figure: (c) => signed(c.sizeDelta, size), kind: 'growth' }));
    s.append(
      table(
        [
          { title: 'class', value: (c) => c.name },
          { title: 'new', value: (c) => count(c.addedCount), raw: (c) => c.addedCount, right: true },
          { title: 'deleted', value: (c) => count(c.removedCount), raw: (c) => c.removedCount, right: true },
          { title: 'delta', value: (c) => signed(c.countDelta, count), raw: (c) => c.countDelta, right: true },
          { title: 'size delta', value: (c) => signed(c.sizeDelta, size), raw: (c) => c.sizeDelta, right: true },
        ],
        rows,
        'growth',
      ),
    );
    if (diff.newObjects && diff.newObjects.length) {
      s.append(el('h3', { text: 'New objects still alive, by where they hang' }));
      for (const g of diff.newObjects.slice(0, 10)) {
        s.append(pathDetails(g.path, g.pathText, `${size(g.size)} in ${count(g.objects)} objects`));
      }
    }
    root.append(s);
  }

  function sparkline(values) {
    const w = 160;
    const h = 36;
    const max = Math.max(1, ...values);
    const step = values.length > 1 ? w / (values.length - 1) : 0;
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 3 - (v / max) * (h - 6)).toFixed(1)}`).join(' ');
    const chart = svg('svg', { class: 'chart spark', viewBox: `0 0 ${w} ${h}`, width: w, height: h });
    chart.append(svg('polyline', { points, class: 'line' }));
    for (const [i, v] of values.entries()) chart.append(svg('circle', { cx: i * step, cy: h - 3 - (v / max) * (h - 6), r: 2.5, class: 'dot' }));
    return chart;
  }

  function renderLeaks(root, leaks) {
    const floor = formatSize(leaks.minGrowth ?? 64 * 1024);
    const s = section('leaks', 'Leak suspects', leaks.suspects.length ? `${leaks.smallLeaks ? `Nothing grew by ${formatSize(64 * 1024)} or more; these grew by less, at every step. ` : ''}Ranked by ${leaks.suspects[0].retained.length >= 3 ? 'the steps they grew in, then memory leaked (new objects already there at the target), then ' : ''}growth: the retainer path that holds it, its retained size in each snapshot, and what it holds that is new.` : `No leak suspects: ${leaks.smallLeaks ? `no object's retained size grew by ${formatSize(64 * 1024)} or more, nor by less at every step while holding new objects already there at the target` : `no object's retained size grew by ${floor} or more (minGrowth) while holding new objects`}. The growth by class and the new objects below show what changed.`);
    leaks.suspects.forEach((x, i) => {
      const card = el('div', { class: 'suspect', 'data-value': String(x.growth) });
      card.append(el('h3', { text: `${i + 1}. ${x.className}: ${signed(x.growth, size)}` }));
      card.append(el('div', { class: 'series' }, sparkline(x.retained), el('span', { text: x.retained.map(size).join(' → ') })));
      card.append(pathDetails(x.path, x.pathText, 'path'));
      const atTarget = x.retained.length < 3 ? '' : x.leakedObjects > 0 ? `, ${count(x.leakedObjects)} (${size(x.leakedSize)}) already there at the target` : ', none there at the target (all allocated after it)';
      card.append(el('p', { text: `holds ${count(x.newObjects)} new objects (${size(x.newSize)})${atTarget}; mostly ${x.classes.slice(0, 4).map((c) => `${c.name} ×${count(c.count)}`).join(', ')}` }));
      for (const g of x.through || []) card.append(pathDetails(g.path, g.pathText, `${size(g.size)} through`));
      for (const site of (x.allocationSites || []).slice(0, 3)) {
        const where = (f) => (f.url ? `${f.url}:${f.line}${f.column ? `:${f.column}` : ''}` : '(V8)');
        const callers = site.stack.slice(1).filter((f) => f.functionName || f.url).map((f) => (f.url ? `${f.functionName || '(anonymous)'} (${where(f)})` : f.functionName)).join(' ← ');
        card.append(el('p', { class: 'site', text: `allocated at ${where(site)} in ${site.functionName || '(anonymous)'}: ${site.sampled ? '~' : ''}${count(site.count)} objects (${site.sampled ? '~' : ''}${size(site.size)})${callers ? `, called from ${callers}` : ''}` }));
      }
      s.append(card);
    });
    root.append(s);
  }

  /** Heap used and RSS over time, snapshots as vertical markers. */
  function timelineChart(timeline) {
    const width = 900;
    const height = 260;
    const pad = { left: 70, right: 10, top: 10, bottom: 24 };
    const samples = timeline.samples;
    const chart = svg('svg', { class: 'chart timeline', viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img' });
    if (samples.length === 0) {
      chart.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'label' }, 'no samples yet'));
      return chart;
    }
    const t0 = Math.min(samples[0].at, ...timeline.markers.map((m) => m.at));
    const t1 = Math.max(samples[samples.length - 1].at, ...timeline.markers.map((m) => m.at), t0 + 1000);
    const max = Math.max(...samples.map((s) => Math.max(s.rss, s.heapUsed)));
    const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
    const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }));
      chart.append(svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, size(Math.round(v))));
    }
    chart.append(svg('text', { x: pad.left, y: height - 6, class: 'tick' }, new Date(t0).toISOString().slice(11, 19)));
    chart.append(svg('text', { x: width - pad.right, y: height - 6, 'text-anchor': 'end', class: 'tick' }, new Date(t1).toISOString().slice(11, 19)));
    for (const [key, cls] of [['rss', 'rss'], ['heapUsed', 'heap']]) {
      const points = samples.map((s) => `${x(s.at).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
      chart.append(svg('polyline', { points, class: `line ${cls}`, 'data-points': String(samples.length) }));
    }
    for (const s of samples.filter((s) => s.kind === 'gc')) {
      chart.append(svg('circle', { cx: x(s.at), cy: y(s.heapUsed), r: 2.5, class: 'gc' }));
    }
    for (const m of timeline.markers) {
      const g = svg('g', { class: 'marker', 'data-label': m.name });
      g.append(svg('line', { x1: x(m.at), x2: x(m.at), y1: pad.top, y2: height - pad.bottom }));
      g.append(svg('text', { x: x(m.at) + 3, y: pad.top + 10, class: 'tick' }, m.name));
      g.append(svg('title', {}, `${m.name}${m.path ? `: ${m.path}` : ''} at ${new Date(m.at).toISOString()}`));
      chart.append(g);
    }
    return chart;
  }

  function renderTimeline(root, timeline) {
    const s = section('timeline', 'Memory over time', 'Heap used (dots: right after a full GC) and RSS; snapshots as markers.');
    s.append(el('p', { class: 'legend' }, el('span', { class: 'key heap', text: 'heap used' }), el('span', { class: 'key rss', text: 'RSS' })));
    s.append(timelineChart(timeline));
    root.append(s);
  }

  function render(data) {
    const root = document.getElementById('report');
    root.replaceChildren();
    if (data.timeline) renderTimeline(root, data.timeline);
    if (data.leaks) renderLeaks(root, data.leaks);
    if (data.diff) renderDiff(root, data.diff);
    if (data.summary) renderSummary(root, data.summary);
    if (!root.children.length) root.append(el('p', { class: 'note', text: 'Nothing to show yet.' }));
  }

  const data = JSON.parse(document.getElementById('heapscope-data').textContent);
  render(data);

  // The live view: samples, markers and summaries as server-sent events.
  if (data.live) {
    const status = document.getElementById('status');
    const source = new EventSource(data.live.events);
    const timeline = data.timeline || { samples: [], markers: [] };
    data.timeline = timeline;
    const keep = (list, item) => {
      list.push(item);
      if (list.length > data.live.keep) list.shift();
    };
    let pending = false;
    const redraw = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        render(data);
      });
    };
    source.addEventListener('sample', (e) => {
      keep(timeline.samples, JSON.parse(e.data));
      redraw();
    });
    source.addEventListener('marker', (e) => {
      keep(timeline.markers, JSON.parse(e.data));
      redraw();
    });
    source.addEventListener('summary', (e) => {
      data.summary = JSON.parse(e.data);
      redraw();
    });
    source.addEventListener('report', (e) => {
      data.leaks = JSON.parse(e.data);
      redraw();
    });
    source.onopen = () => (status.textContent = 'live');
    source.onerror = () => (status.textContent = 'disconnected');
  }
})();
