// Chime's dashboard, part 1 of 3: constants, DOM and formatting helpers,
// the JSON tree and the charts (Chart.js). Classic scripts loaded in order
// (dashboard-ui.js, dashboard-views.js, dashboard.js) share their top-level
// names. Every value from the API is inserted as text, never as HTML.
'use strict';

const TOKEN_KEY = 'chime.token';
const REFRESH_MS = Math.max(2, Number(new URLSearchParams(location.search).get('refresh') || 10)) * 1000;

// Outcome and state colours, shared by badges (CSS classes) and charts.
const COLORS = {
  succeeded: '#22c55e', partial: '#f59e0b', failed: '#ef4444', skipped: '#94a3b8', cancelled: '#a78bfa',
  p50: '#6366f1', p95: '#f97316', throughput: '#4f46e5',
};
const QUEUE_COLORS = ['#4f46e5', '#0ea5e9', '#f59e0b', '#10b981', '#ec4899', '#8b5cf6', '#ef4444', '#14b8a6'];
const BADGE = {
  succeeded: 'b-ok', partial: 'b-warn', failed: 'b-bad', discarded: 'b-bad', lease_expired: 'b-bad',
  skipped: 'b-neutral', cancelled: 'b-violet', released: 'b-neutral', running: 'b-info b-live',
  available: 'b-info', scheduled: 'b-neutral', retryable: 'b-warn', enqueued: 'b-info',
  skipped_overlap: 'b-neutral', skipped_misfire: 'b-neutral', buffered: 'b-warn', firing: 'b-bad',
  ok: 'b-ok', off: 'b-neutral', paused: 'b-warn', active: 'b-ok', live: 'b-info', healthy: 'b-ok',
};
const STATES = ['available', 'scheduled', 'running', 'retryable', 'succeeded', 'discarded', 'cancelled'];
const OUTCOMES = ['succeeded', 'partial', 'failed', 'skipped', 'cancelled'];

const session = { me: null, timer: null, route: null, charts: [], range: '24h' };
const treeState = new Map();  // JSON tree node path -> open, kept across refreshes.

// ---------------------------------------------------------------- helpers

// h('td', {class: 'num', title: 'x', on: {click: fn}, dataset: {jobId: 3}}, child, ...)
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k === 'style') Object.assign(e.style, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const res = await fetch(path, {
    method: options.method || 'GET',
    headers: { Authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) },
    cache: 'no-store',
  });
  if (res.status === 401) throw new Unauthorized('the token was refused');
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const message = body && body.error ? body.error.message : res.statusText;
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return body;
}

function canOperate() {
  return session.me && (session.me.scope === 'operate' || session.me.scope === 'admin');
}

function badge(text, cls) {
  return h('span', { class: 'badge ' + (cls || BADGE[text] || 'b-neutral') }, String(text).replace(/_/g, ' '));
}

function fmtInt(n) {
  if (n == null) return '–';
  return Number(n).toLocaleString('en-US');
}

function compact(n) {
  if (n == null) return '–';
  const a = Math.abs(n);
  if (a >= 1e6) return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
  if (a >= 1e4) return (n / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 });
}

function ms(v) {
  if (v == null) return '–';
  if (v === 0) return '0';
  if (v < 1) return '<1 ms';
  if (v < 1000) return Math.round(v) + ' ms';
  if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1) + ' s';
  if (v < 3600000) return (v / 60000).toFixed(1) + ' min';
  return (v / 3600000).toFixed(1) + ' h';
}

function pct(v) {
  return v == null ? '–' : (v * 100).toFixed(v >= 0.9995 || v === 0 ? 0 : 1) + '%';
}

function ago(iso) {
  if (!iso) return '–';
  const s = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const a = Math.abs(s);
  const span = a < 5 ? 'now' : a < 90 ? a + ' s' : a < 5400 ? Math.round(a / 60) + ' min'
             : a < 172800 ? Math.round(a / 3600) + ' h' : Math.round(a / 86400) + ' d';
  if (span === 'now') return 'just now';
  return s >= 0 ? 'in ' + span : span + ' ago';
}

function absTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit',
                                                  minute: '2-digit', second: '2-digit' });
}

function when(iso) {
  return h('span', { class: 'nowrap', title: iso ? absTime(iso) + ' (' + iso + ')' : '' }, ago(iso));
}

function durationBetween(a, b) {
  if (!a || !b) return null;
  return new Date(b).getTime() - new Date(a).getTime();
}

function href(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

function go(path, params) { location.hash = href(path, params); }

function toast(text, bad) {
  const t = h('div', { class: 'toast' + (bad ? ' bad' : '') }, text);
  document.getElementById('toasts').appendChild(t);
  setTimeout(() => t.remove(), 5000);
}

function card(title, hint, body, opts = {}) {
  return h('section', { class: 'card ' + (opts.class || ''), dataset: opts.dataset },
    h('div', { class: 'card-head' }, h('h2', null, title), hint ? h('span', { class: 'hint' }, hint) : null,
      h('span', { class: 'spacer' }), opts.tools || null),
    h('div', { class: 'card-body' + (opts.flush ? ' flush' : '') }, body));
}

function stat(label, value, sub, cls) {
  return h('div', { class: 'stat ' + (cls || '') }, h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value), sub ? h('div', { class: 'sub' }, sub) : null);
}

// A table: `cols` [{label, num}], `rows` arrays of cells (nodes or text),
// `opts.link(i)` a hash to open on click, `opts.data(i)` data attributes.
function table(cols, rows, opts = {}) {
  if (!rows.length) return h('div', { class: 'empty' }, opts.empty || 'Nothing here.');
  return h('div', { class: 'table-wrap' }, h('table', { id: opts.id },
    h('thead', null, h('tr', null, cols.map(c => h('th', { class: c.num ? 'num' : '' }, c.label)))),
    h('tbody', null, rows.map((cells, i) => {
      const link = opts.link ? opts.link(i) : null;
      const tr = h('tr', { class: (link ? 'link ' : '') + (opts.rowClass ? opts.rowClass(i) : ''),
                           dataset: opts.data ? opts.data(i) : undefined });
      if (link) tr.addEventListener('click', ev => { if (!ev.target.closest('a, button')) location.hash = link; });
      cells.forEach((c, j) => tr.appendChild(c instanceof Node && c.tagName === 'TD' ? c
        : h('td', { class: cols[j] && cols[j].num ? 'num' : cols[j] && cols[j].cls || '' }, c)));
      return tr;
    }))));
}

function segmented(values, current, onPick) {
  return h('div', { class: 'seg' }, values.map(v => h('button', {
    type: 'button', class: v === current ? 'on' : '', on: { click: () => onPick(v) } }, v)));
}

// -------------------------------------------------------------- JSON tree

const TREE_LIMIT = 200;

// A collapsible tree of a JSON value. Objects and arrays are <details>;
// the first two levels start open. Strings that hold JSON (an endpoint's
// answer kept as text) are shown as trees too, marked "JSON text".
function jsonTree(value, path = '$') {
  return h('div', { class: 'json' }, jsonNode(value, path, 0));
}

function jsonNode(value, path, depth) {
  if (typeof value === 'string') {
    const t = value.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try {
        const parsed = JSON.parse(t);
        if (parsed && typeof parsed === 'object') {
          return h('span', null, jsonNode(parsed, path + '~', depth), h('span', { class: 'j-tag' }, 'JSON text'));
        }
      } catch (e) { /* a plain string */ }
    }
    return h('span', { class: 'j-str' }, JSON.stringify(value.length > 4000 ? value.slice(0, 4000) + '…' : value));
  }
  if (value === null) return h('span', { class: 'j-null' }, 'null');
  if (typeof value === 'boolean') return h('span', { class: 'j-bool' }, String(value));
  if (typeof value === 'number') return h('span', { class: 'j-num' }, String(value));
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (!entries.length) return h('span', { class: 'j-punct' }, open + close);
  const d = h('details', { dataset: { path } });
  // Small trees open three levels deep, big ones two; the reader's own
  // toggles win across refreshes.
  d.open = treeState.has(path) ? treeState.get(path) : (depth < 2 && entries.length <= 60) || (depth < 3 && entries.length <= 12);
  d.addEventListener('toggle', () => treeState.set(path, d.open));
  const n = entries.length;
  d.appendChild(h('summary', null, h('span', { class: 'j-punct' }, open),
    h('span', { class: 'j-more' }, n + (isArray ? (n === 1 ? ' item' : ' items') : (n === 1 ? ' key' : ' keys')) + ' ' + close)));
  const kids = h('div', { class: 'j-children' });
  for (const [k, v] of entries.slice(0, TREE_LIMIT)) {
    kids.appendChild(h('div', { class: 'j-row' + (typeof v === 'string' && v.length > 80 ? ' j-wrap' : '') },
      isArray ? h('span', { class: 'j-index' }, k + ': ') : [h('span', { class: 'j-key' }, JSON.stringify(k)),
        h('span', { class: 'j-punct' }, ': ')],
      jsonNode(v, path + '.' + k, depth + 1)));
  }
  if (n > TREE_LIMIT) kids.appendChild(h('div', { class: 'j-more' }, '… ' + fmtInt(n - TREE_LIMIT) + ' more'));
  d.appendChild(kids);
  d.appendChild(h('span', { class: 'j-punct j-close' }, close));
  return d;
}

function copyButton(value) {
  return h('button', { class: 'btn', type: 'button', on: { click: async () => {
    try {
      await navigator.clipboard.writeText(JSON.stringify(value, null, 2));
      toast('Copied');
    } catch (e) { toast('The browser refused the clipboard', true); }
  } } }, 'Copy');
}

// ----------------------------------------------------------------- charts

function setupCharts() {
  if (!window.Chart) return;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.font.size = 11.5;
  Chart.defaults.color = '#64748b';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.position = 'bottom';
  Chart.defaults.plugins.legend.labels.boxWidth = 10;
  Chart.defaults.plugins.legend.labels.boxHeight = 10;
  Chart.defaults.plugins.tooltip.mode = 'index';
  Chart.defaults.plugins.tooltip.intersect = false;
}

function destroyCharts() {
  for (const c of session.charts) c.destroy();
  session.charts = [];
}

// A canvas in a fixed-height box; the chart is drawn once the box is in the
// page (Chart.js measures its parent). data-chart names it for tests.
function chartBox(name, config, emptyText, tall) {
  const canvas = h('canvas', { dataset: { chart: name } });
  const box = h('div', { class: 'chart-box' + (tall ? ' tall' : '') }, canvas);
  // Something to see: a sample (even of 0) of a time line, or a count above 0.
  const points = config.data.datasets.reduce((n, d) => n + d.data.filter(v =>
    v != null && (typeof v === 'object' ? v.y != null : v > 0)).length, 0);
  canvas.dataset.points = points;
  if (!points) box.appendChild(h('div', { class: 'chart-empty' }, emptyText || 'No data in this range yet'));
  box.chartConfig = config;
  return box;
}

function drawCharts(root) {
  if (!window.Chart) return;
  for (const box of root.querySelectorAll('.chart-box')) {
    if (!box.chartConfig) continue;
    session.charts.push(new Chart(box.querySelector('canvas'), box.chartConfig));
  }
}

function bucketLabel(iso, range) {
  const d = new Date(iso);
  const hm = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  if (range === 'day') return d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
  if (range === '7d') return d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric' }) + ' ' + hm;
  return hm;
}

// A bucket's start (ISO) as a tick label, or '' where no tick belongs:
// every 10 minutes (1 h), 3 hours (24 h) or at midnight (7 d), local time.
function tickLabel(iso, range) {
  const d = new Date(iso);
  if (range === '1h') return d.getMinutes() % 10 === 0 ? bucketLabel(iso, range) : '';
  if (range === '7d') return d.getHours() === 0 ? bucketLabel(iso, 'day') : '';
  return d.getHours() % 3 === 0 ? bucketLabel(iso, range) : '';
}

function bucketTitle(iso, series) {
  const start = new Date(iso), end = new Date(start.getTime() + series.bucket_seconds * 1000);
  const hm = d => d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return start.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short' }) + ', ' +
    hm(start) + '–' + hm(end);
}

// Category axes over a series' buckets (labels are the buckets' starts).
function bucketAxes(series, stacked, yFormat, integer) {
  const scales = axes(stacked, null, yFormat, integer);
  scales.x.ticks = { autoSkip: false, maxRotation: 0,
    callback(value) { return tickLabel(this.getLabelForValue(value), series.range); } };
  return scales;
}

function axes(stacked, yTitle, yFormat, integer = true) {
  return {
    x: { stacked, grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0, autoSkipPadding: 12 } },
    y: { stacked, beginAtZero: true, grid: { color: '#eef1f5', drawBorder: false },
         title: yTitle ? { display: true, text: yTitle } : undefined,
         ticks: { maxTicksLimit: 5, precision: integer ? 0 : undefined, callback: yFormat || (v => compact(v)) } },
  };
}

function titleCallback(series) {
  return { title: items => items.length ? bucketTitle(items[0].label, series) : '' };
}

function runsChart(series, name) {
  const labels = series.buckets.map(b => b.start);
  return chartBox(name || 'runs', {
    type: 'bar',
    data: { labels, datasets: OUTCOMES.map(o => ({
      label: o, data: series.buckets.map(b => b[o]), backgroundColor: COLORS[o], borderRadius: 2,
      maxBarThickness: 26, categoryPercentage: 0.85, barPercentage: 0.9 })) },
    options: { scales: bucketAxes(series, true), plugins: { tooltip: { callbacks: titleCallback(series) } } },
  }, 'No runs in this range');
}

// Finished per minute, or per hour when that reads better (under one a minute).
function throughputUnit(series) {
  const minutes = series.bucket_seconds / 60;
  const perMin = series.buckets.map(b => (b.succeeded + b.partial + b.failed + b.cancelled) / minutes);
  return Math.max(0, ...perMin) >= 1 ? ['minute', perMin] : ['hour', perMin.map(v => v * 60)];
}

function throughputChart(series) {
  const [unit, values] = throughputUnit(series);
  return chartBox('throughput', {
    type: 'line',
    data: { labels: series.buckets.map(b => b.start), datasets: [{ label: 'per ' + unit, data: values,
      borderColor: COLORS.throughput, backgroundColor: 'rgba(79,70,229,.10)', fill: true, tension: 0.3,
      pointRadius: 0, borderWidth: 2 }] },
    options: { scales: bucketAxes(series, false, v => compact(v), false),
               plugins: { legend: { display: false }, tooltip: { callbacks: Object.assign(titleCallback(series),
                 { label: c => compact(c.parsed.y) + ' per ' + unit }) } } },
  }, 'Nothing finished in this range');
}

function durationChart(series) {
  const labels = series.buckets.map(b => b.start);
  const line = (key, label) => ({ label, data: series.buckets.map(b => b[key]), borderColor: COLORS[key],
    backgroundColor: COLORS[key], tension: 0.3, pointRadius: 2, borderWidth: 2, spanGaps: false });
  return chartBox('durations', {
    type: 'line',
    data: { labels, datasets: [line('p50_ms', 'p50'), line('p95_ms', 'p95')].map((d, i) =>
      Object.assign(d, { borderColor: i ? COLORS.p95 : COLORS.p50, backgroundColor: i ? COLORS.p95 : COLORS.p50 })) },
    options: { scales: bucketAxes(series, false, v => ms(v), false),
               plugins: { tooltip: { callbacks: Object.assign(titleCallback(series),
                 { label: c => c.dataset.label + ': ' + ms(c.parsed.y) }) } } },
  }, 'No durations in this range');
}

function queueChart(series, field, name, format) {
  const datasets = series.queues.map((q, i) => ({
    label: q.queue, data: q.points.map(p => ({ x: new Date(p.at).getTime(), y: p[field] })),
    borderColor: QUEUE_COLORS[i % QUEUE_COLORS.length], backgroundColor: QUEUE_COLORS[i % QUEUE_COLORS.length],
    pointRadius: 0, borderWidth: 2, tension: 0.25, spanGaps: series.step_seconds * 2500,
  }));
  // Ticks on round local times: every 10 minutes, 3 hours or day.
  const step = { '1h': 600e3, '24h': 3 * 3600e3, '7d': 86400e3 }[series.range] || 3600e3;
  const until = new Date(series.until).getTime();
  const since = new Date(series.since).getTime();
  const offset = -new Date(since).getTimezoneOffset() * 60e3;  // Local = UTC + offset.
  let first = Math.ceil((since + offset) / step) * step - offset;
  if (series.range === '7d') {
    const midnight = new Date(since);
    midnight.setHours(24, 0, 0, 0);
    first = midnight.getTime();
  }
  const scales = axes(false, null, format);
  scales.x = { type: 'linear', min: since, max: until, grid: { display: false },
    afterBuildTicks: axis => {
      const ticks = [];
      for (let t = first; t <= until; t += step) ticks.push({ value: t });
      axis.ticks = ticks;
    },
    ticks: { maxRotation: 0, autoSkip: true, callback: v => bucketLabel(new Date(v).toISOString(), series.range === '7d' ? 'day' : series.range) } };
  return chartBox(name, {
    type: 'line', data: { datasets },
    options: { parsing: true, scales, plugins: { tooltip: { callbacks: {
      title: items => items.length ? absTime(new Date(items[0].parsed.x).toISOString()) : '',
      label: c => c.dataset.label + ': ' + (format ? format(c.parsed.y) : fmtInt(c.parsed.y)) } } } },
  }, 'No samples yet (the leader records one every 15 s)');
}

// The range lives in the address (?range=7d), so a chart's view is a link.
function rangeControl() {
  return segmented(['1h', '24h', '7d'], session.range, r => {
    const route = parseRoute();
    route.params.set('range', r);
    session.range = r;
    location.hash = '#' + route.path + '?' + route.params;
  });
}

function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  return { path: path || '/', params: new URLSearchParams(query || '') };
}

