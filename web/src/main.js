// llmscale's live dashboard: loads /api/dashboard/snapshot, then follows the SSE stream
// /api/dashboard/events (samples every second, decisions as the controller makes them) and draws
// per HPA the metric against its target and tolerance band, the replicas, and per fleet the
// request rate, queue, TTFT/ITL percentiles and KV-cache use per replica, with uPlot.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

const api = 'api/dashboard/';
// A report file (Dashboard::report_html) carries its snapshot in the page: no fetch, no stream.
const embedded = window.LLMSCALE_SNAPSHOT;
// `?live=0`: the snapshot only, no stream (a still page: printing, headless screenshots).
const live = !embedded && new URLSearchParams(location.search).get('live') !== '0';
const state = {snapshot: null, samples: [], decisions: [], charts: [], errors: [], follow: true};

window.addEventListener('error', (e) => state.errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => state.errors.push(String(e.reason)));
const consoleError = console.error;
console.error = (...args) => { state.errors.push(args.join(' ')); consoleError(...args); };

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};

const fmt = (v) => {
  if (v == null || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(2);
  return (Math.round(v * 1000) / 1000).toString();
};
const fmtTime = (ms) => new Date(ms).toLocaleTimeString();
const colors = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777',
  '#65a30d'];

// One chart: `columns(samples)` returns [[...y] per series]; x is the samples' times in seconds.
function makeChart(parent, title, series, columns, opts = {}) {
  const box = el('div', {class: 'chart'}, el('h3', {}, title));
  parent.append(box);
  const width = () => Math.max(300, box.clientWidth - 8);
  const plot = new uPlot({
    width: width(),
    height: opts.height || 180,
    series: [{}, ...series.map((s, i) => ({
      stroke: s.color || colors[i % colors.length],
      width: 1.5,
      dash: s.dash,
      label: s.label,
      paths: s.stepped ? uPlot.paths.stepped({align: 1}) : undefined,
      spanGaps: false,
      value: (u, v) => fmt(v),
    }))],
    bands: opts.bands,
    scales: {x: {time: true}, y: opts.yRange ? {range: opts.yRange} : {}},
    axes: [{}, {size: 60}],
    cursor: {drag: {x: true, y: false}},
    hooks: {
      setSelect: [() => { state.follow = false; }],
    },
  }, [[], ...series.map(() => [])], box);
  const chart = {plot, columns, box, replicasOf: opts.replicasOf, resize: () => plot.setSize({width: width(), height: plot.height})};
  plot.over.addEventListener('dblclick', () => { state.follow = true; render(); });
  state.charts.push(chart);
  return chart;
}

// The samples in the chosen time range (all of them for "all").
function visible() {
  const range = Number(document.getElementById('range').value);
  if (!range || state.samples.length === 0) return state.samples;
  const end = state.samples[state.samples.length - 1].t;
  let i = state.samples.length;
  while (i > 0 && state.samples[i - 1].t >= end - range * 1000) i--;
  return state.samples.slice(i);
}

function render() {
  const samples = visible();
  const xs = samples.map((s) => s.t / 1000);
  for (const c of state.charts) {
    if (!state.follow && c.plot.data[0].length > 0) {
      // Zoomed: keep the x range the user chose while new data arrive.
      const {min, max} = c.plot.scales.x;
      c.plot.setData([xs, ...c.columns(samples)], false);
      c.plot.setScale('x', {min, max});
    } else {
      c.plot.setData([xs, ...c.columns(samples)]);
    }
  }
  report();
}

function hpaPanel(main, hpa) {
  const key = hpa.key;
  const section = el('section', {class: 'hpa', 'data-hpa': key});
  const head = el('div', {class: 'head'},
    el('h2', {}, `HPA ${hpa.namespace}/${hpa.name}`),
    el('span', {class: 'target'}, `→ ${hpa.target}`),
    el('span', {class: 'replicas', 'data-field': 'replicas'}, ''),
    el('span', {class: 'conditions', 'data-field': 'conditions'}, ''));
  section.append(head);
  const grid = el('div', {class: 'grid'});
  section.append(grid);
  hpa.metrics.forEach((m, i) => {
    const tol = hpa.tolerance ?? 0.1;
    const target = m.target;
    const series = [
      {label: m.name},
      {label: 'target', color: '#111', dash: [6, 4]},
      {label: `−${Math.round(tol * 100)}%`, color: '#9ca3af', dash: [2, 3]},
      {label: `+${Math.round(tol * 100)}%`, color: '#9ca3af', dash: [2, 3]},
    ];
    makeChart(grid, `${m.name} (${m.targetType} ${fmt(target)})`, series, (ss) => [
      ss.map((s) => s.hpas?.[key]?.metrics?.[i] ?? null),
      ss.map(() => target),
      ss.map(() => (target == null ? null : target * (1 - tol))),
      ss.map(() => (target == null ? null : target * (1 + tol))),
    ], {bands: [{series: [4, 3], fill: 'rgba(156,163,175,0.15)'}]});
  });
  const fleet = hpa.fleet;
  makeChart(grid, 'replicas', [
    {label: 'desired', stepped: true},
    {label: 'current', stepped: true},
    {label: 'ready', stepped: true},
    {label: 'starting', stepped: true},
  ], (ss) => [
    ss.map((s) => s.hpas?.[key]?.desired ?? null),
    ss.map((s) => s.hpas?.[key]?.current ?? null),
    ss.map((s) => s.fleets?.[fleet]?.ready ?? null),
    ss.map((s) => s.fleets?.[fleet]?.starting ?? null),
  ], {yRange: (u, min, max) => [0, Math.max(hpa.maxReplicas || 1, max) + 0.5], replicasOf: hpa.name});
  const log = el('div', {class: 'decisions'}, el('h3', {}, 'scale events and decisions'),
    el('ol', {'data-field': 'decisions'}));
  section.append(log);
  const events = el('div', {class: 'events'}, el('h3', {}, 'events'),
    el('table', {'data-field': 'events'}));
  section.append(events);
  main.append(section);
}

function fleetPanel(main, fleet) {
  const name = fleet.name;
  const section = el('section', {class: 'fleet', 'data-fleet': name},
    el('div', {class: 'head'}, el('h2', {}, `fleet ${fleet.namespace}/${name}`),
      el('span', {class: 'pods', 'data-field': 'pods'}, '')));
  const grid = el('div', {class: 'grid'});
  section.append(grid);
  const f = (s) => s.fleets?.[name] || {};
  makeChart(grid, 'requests/s and queue', [{label: 'requests/s'}, {label: 'queued'},
    {label: 'in flight'}], (ss) => [
    ss.map((s) => f(s).rps ?? null), ss.map((s) => f(s).queue ?? null),
    ss.map((s) => f(s).inFlight ?? null)]);
  makeChart(grid, 'latency (s)', [{label: 'TTFT p50'}, {label: 'TTFT p95'}, {label: 'ITL p50'},
    {label: 'ITL p95'}], (ss) => [
    ss.map((s) => f(s).ttftP50 ?? null), ss.map((s) => f(s).ttftP95 ?? null),
    ss.map((s) => f(s).itlP50 ?? null), ss.map((s) => f(s).itlP95 ?? null)]);
  // KV-cache use per replica: one series per pod seen in any sample (pods come and go).
  const pods = new Set();
  for (const s of state.samples) Object.keys(f(s).kv || {}).forEach((p) => pods.add(p));
  const podList = [...pods].sort();
  if (podList.length > 0) {
    makeChart(grid, 'KV-cache use per replica', podList.map((p) => ({label: p.split('-').pop()})),
      (ss) => podList.map((p) => ss.map((s) => f(s).kv?.[p] ?? null)), {yRange: [0, 1]});
  }
  section.dataset.pods = podList.join(',');
  main.append(section);
}

function build() {
  const main = document.getElementById('main');
  for (const c of state.charts) c.plot.destroy();
  state.charts = [];
  main.replaceChildren();
  const snap = state.snapshot;
  if (snap.hpas.length === 0 && snap.fleets.length === 0) {
    main.append(el('p', {class: 'empty'}, 'No HPA and no fleet yet.'));
  }
  for (const hpa of snap.hpas) hpaPanel(main, hpa);
  for (const fleet of snap.fleets) fleetPanel(main, fleet);
  updateState();
  render();
}

// Text parts: replicas, conditions, decisions, events, pods.
function updateState() {
  const snap = state.snapshot;
  for (const hpa of snap.hpas) {
    const section = document.querySelector(`section[data-hpa="${CSS.escape(hpa.key)}"]`);
    if (!section) continue;
    section.querySelector('[data-field=replicas]').textContent =
      `current ${hpa.currentReplicas} · desired ${hpa.desiredReplicas} · min ${hpa.minReplicas} · max ${hpa.maxReplicas}`;
    const conds = section.querySelector('[data-field=conditions]');
    // Red when the HPA cannot act (AbleToScale or ScalingActive not True), amber when limited.
    const tone = (c) => {
      if (c.type === 'AbleToScale' || c.type === 'ScalingActive') return c.status === 'True' ? 'ok' : 'bad';
      if (c.type === 'ScalingLimited') return c.status === 'True' ? 'warn' : 'ok';
      return '';
    };
    conds.replaceChildren(...(hpa.conditions || []).map((c) => el('span', {
      class: `cond ${tone(c)}`, title: `${c.reason}: ${c.message}`,
    }, `${c.type}=${c.status}`)));
    const ol = section.querySelector('[data-field=decisions]');
    const mine = state.decisions.filter((d) => d.hpa === hpa.key).slice(-50).reverse();
    ol.replaceChildren(...mine.map((d) => el('li', {},
      el('time', {}, fmtTime(d.t)), ' ',
      el('b', {}, `${d.from} → ${d.to}`), ' ', d.reason || '',
      ...(d.explanation?.length ? [el('div', {class: 'why'}, d.explanation.join(' · '))] : []))));
    const table = section.querySelector('[data-field=events]');
    // The columns of `kubectl describe hpa`'s Events, "From" included (controller or activator).
    table.replaceChildren(el('tr', {}, el('th', {}, 'type'), el('th', {}, 'reason'),
      el('th', {}, 'count'), el('th', {}, 'last'), el('th', {}, 'from'), el('th', {}, 'message')),
    ...(hpa.events || []).slice(-20).reverse().map((e) => el('tr', {class: e.type},
      el('td', {}, e.type), el('td', {}, e.reason), el('td', {}, e.count),
      el('td', {}, e.last ? fmtTime(e.last) : ''), el('td', {}, e.source || ''),
      el('td', {}, e.message))));
  }
  for (const fleet of snap.fleets) {
    const section = document.querySelector(`section[data-fleet="${CSS.escape(fleet.name)}"]`);
    if (!section) continue;
    section.querySelector('[data-field=pods]').textContent = (fleet.pods || [])
      .map((p) => `${p.name.split('-').pop()}:${p.ready ? 'ready' : p.phase}`).join('  ');
  }
}

// The tab's title: each HPA's desired/current replicas as its chart draws them (last point), so
// a glance at the tab, or a test reading it over DevTools' /json/list, sees the fleet's size.
function report() {
  const last = (a) => (a.length ? a[a.length - 1] : null);
  const parts = state.charts.filter((c) => c.replicasOf)
    .map((c) => `${c.replicasOf}=${last(c.plot.data[1]) ?? '?'}/${last(c.plot.data[2]) ?? '?'}`);
  const warn = state.errors.length ? `⚠${state.errors.length} ` : '';
  document.title = `${warn}llmscale ${parts.join(' ')}`.trim();
}

const maxSamples = () => state.snapshot?.maxSamples || 3600;

async function load() {
  let snap = embedded;
  if (!snap) {
    const res = await fetch(api + 'snapshot');
    if (!res.ok) throw new Error(`snapshot: HTTP ${res.status}`);
    snap = await res.json();
  }
  state.snapshot = snap;
  state.samples = snap.samples || [];
  state.decisions = snap.decisions || [];
  state.lastEventId = snap.lastEventId;
}

// New HPAs, fleets or pods need new charts; anything else updates in place.
function shape(snap) {
  return JSON.stringify([snap.hpas.map((h) => [h.key, h.metrics.map((m) => [m.name, m.target])]),
    snap.fleets.map((f) => [f.name, (f.pods || []).map((p) => p.name)])]);
}

function connect() {
  const conn = document.getElementById('conn');
  // `since`: the events after the snapshot (a reconnect sends Last-Event-ID instead).
  const source = new EventSource(`${api}events?since=${state.lastEventId}`);
  source.onopen = () => { conn.textContent = 'live'; conn.className = 'conn ok'; };
  source.onerror = () => { conn.textContent = 'reconnecting…'; conn.className = 'conn bad'; };
  source.addEventListener('sample', (e) => {
    state.samples.push(JSON.parse(e.data));
    if (state.samples.length > maxSamples()) state.samples.splice(0, state.samples.length - maxSamples());
    render();
  });
  source.addEventListener('decision', (e) => {
    state.decisions.push(JSON.parse(e.data));
    if (state.decisions.length > 500) state.decisions.shift();
    updateState();
  });
  source.addEventListener('state', (e) => {
    const next = JSON.parse(e.data);
    const rebuild = shape(next) !== shape(state.snapshot);
    state.snapshot = {...state.snapshot, hpas: next.hpas, fleets: next.fleets};
    if (rebuild) build(); else updateState();
  });
  // The server dropped events this client had not read yet: start over from a snapshot.
  source.addEventListener('reset', async () => {
    source.close();
    await load();
    build();
    connect();
  });
}

async function main() {
  document.getElementById('range').addEventListener('change', () => { state.follow = true; render(); });
  document.getElementById('follow').addEventListener('click', () => { state.follow = true; render(); });
  window.addEventListener('resize', () => state.charts.forEach((c) => c.resize()));
  try {
    await load();
  } catch (e) {
    document.getElementById('main').replaceChildren(el('p', {class: 'empty'}, String(e)));
    throw e;
  }
  build();
  if (live) {
    connect();
  } else {
    document.getElementById('conn').textContent = `snapshot ${fmtTime(state.snapshot.now)}`;
  }
}

main();
