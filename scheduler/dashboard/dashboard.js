// Chime's dashboard: one page of views behind hash routes (deep links):
//   #/                       overview: figures, charts, alerts, schedules, failures
//   #/jobs?state=&outcome=&kind=&queue=&schedule=&parent=&cursor=
//                            the job browser (keyset pages: cursor = the last id seen)
//   #/jobs/ID                a job: attempts, result, payload, fan-out, actions
//   #/schedules              every schedule
//   #/schedules/NAME         a schedule: next fires in its zone, fires, health, runs, charts
//   #/queues                 queues over time and the workers
// It reads the scheduler's /api with the bearer token the user gives it
// (kept in sessionStorage, never a cookie) and offers actions (retry,
// cancel, trigger, pause, resume) only to a token of scope operate or
// admin (/api/whoami); the server checks the scope again. Every value from
// the API is inserted as text, never as HTML; the Content Security Policy
// allows scripts from this origin only (this file and Chart.js).
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

// ------------------------------------------------------------------ views

async function overview() {
  const range = session.range;
  const hours = { '1h': 1, '24h': 24, '7d': 168 }[range];
  const [queues, stats, alerts, schedules, series, qseries, workers, failures] = await Promise.all([
    api('/api/queues'), api('/api/stats?by=schedule&hours=' + hours), api('/api/alerts'),
    api('/api/schedules'), api('/api/series/runs?range=' + range), api('/api/series/queues?range=' + range),
    api('/api/workers'), api('/api/jobs?state=retryable,discarded&limit=8')]);
  const sum = key => series.buckets.reduce((n, b) => n + b[key], 0);
  const done = sum('succeeded') + sum('partial'), failed = sum('failed');
  const rate = done + failed ? done / (done + failed) : null;
  const ready = queues.queues.reduce((n, q) => n + q.ready, 0);
  const oldest = queues.queues.reduce((m, q) => Math.max(m, q.oldest_ready_age_ms), 0);
  const slots = workers.workers.reduce((n, w) => n + w.slots, 0);
  const busy = workers.workers.reduce((n, w) => n + w.slots - w.free_slots, 0);
  const unit = series.counts === 'attempts' ? 'attempts' : 'runs';

  const page = h('div', { dataset: { view: 'overview' } },
    h('div', { class: 'page-head' },
      h('div', { class: 'titles' }, h('h1', null, 'Overview'),
        h('div', { class: 'subtitle' }, 'Everything the cluster ran in the last ' + range + ', and what is waiting now')),
      h('div', { class: 'actions' }, rangeControl())),
    h('div', { class: 'stats' },
      stat('Ready now', fmtInt(ready), oldest ? 'oldest waiting ' + ms(oldest) : 'nothing waiting', ready ? '' : 'ok'),
      stat('Running', fmtInt(queues.states.running), busy + ' of ' + slots + ' worker slots busy'),
      stat('Succeeded', compact(done), sum('partial') ? compact(sum('partial')) + ' partial' : unit + ' in ' + range, 'ok'),
      stat('Failed', compact(failed), failed ? unit + ' in ' + range : 'none in ' + range, failed ? 'bad' : ''),
      stat('Success rate', pct(rate), 'succeeded / decided', rate != null && rate < 0.8 ? 'warn' : ''),
      stat('Alerts firing', fmtInt(alerts.alerts.length), alerts.alerts.length ? 'see below' : 'all schedules healthy',
           alerts.alerts.length ? 'bad' : 'ok')),
    alerts.alerts.length ? card('Alerts firing', alerts.alerts.length + ' active', table(
      [{ label: 'Schedule' }, { label: 'Rule' }, { label: 'Message' }, { label: 'Since' }, { label: 'Notified' }],
      alerts.alerts.map(a => [h('a', { href: href('/schedules/' + encodeURIComponent(a.jobName)) }, a.jobName),
        badge(a.type, 'b-bad'), a.message, when(a.firedAt), a.delivery]),
      { id: 'alerts', data: i => ({ alertId: alerts.alerts[i].id }) }), { class: 'accent-bad', flush: true }) : null,
    h('div', { class: 'grid g3' },
      card('Runs by outcome', unit + ' finished per ' + (range === '1h' ? 'minute' : 'hour'), runsChart(series)),
      card('Throughput', unit + ' finished per ' + throughputUnit(series)[0], throughputChart(series))),
    h('div', { class: 'grid g2' },
      card('Queue depth', 'jobs ready to run, per queue', queueChart(qseries, 'ready', 'queue-depth')),
      card('Oldest ready job', 'how long the head of each queue has waited',
           queueChart(qseries, 'oldest_ready_ms', 'queue-age', v => ms(v)))),
    h('div', { class: 'grid g2' },
      card('Schedules', schedules.schedules.length + ' defined', scheduleTable(schedules.schedules, stats.stats, alerts.alerts, true),
           { flush: true, tools: h('a', { href: '#/schedules' }, 'All schedules →') }),
      card('Recent failures', 'retrying or given up', jobTable(failures.jobs, true),
           { flush: true, tools: h('a', { href: href('/jobs', { state: 'retryable,discarded' }) }, 'Browse →') })));
  return page;
}

function healthOf(name, alerts) {
  const rules = alerts.filter(a => a.jobName === name).map(a => a.type);
  return rules;
}

function scheduleTable(schedules, stats, alerts, compactView) {
  const byName = new Map(stats.map(s => [s.jobName, s]));
  const cols = compactView
    ? [{ label: 'Schedule' }, { label: 'Next fire' }, { label: 'Last run' }, { label: 'Success', num: true }, { label: 'Health' }]
    : [{ label: 'Schedule' }, { label: 'When' }, { label: 'Kind' }, { label: 'Next fire' }, { label: 'Last run' },
       { label: 'Runs', num: true }, { label: 'Success', num: true }, { label: 'p95', num: true },
       { label: 'Failing streak', num: true }, { label: 'Health' }];
  const rows = schedules.map(s => {
    const st = byName.get(s.name) || {};
    const rules = healthOf(s.name, alerts);
    const health = rules.length ? badge(rules.join(', ').replace(/_/g, ' '), 'b-bad') : badge('healthy', 'b-ok');
    const name = h('div', { class: 'nowrap' }, h('a', { href: href('/schedules/' + encodeURIComponent(s.name)) }, s.name),
      s.paused ? [' ', badge('paused', 'b-warn')] : null);
    const next = s.paused ? h('span', { class: 'muted' }, 'paused') : when(s.next_fire);
    const last = s.last_run_outcome ? h('span', { class: 'nowrap' }, badge(s.last_run_outcome), ' ', h('span', { class: 'muted' }, ago(s.last_run_finished_at)))
      : s.last_fire_outcome ? badge(s.last_fire_outcome) : h('span', { class: 'muted' }, 'never ran');
    const rate = st.successRate == null ? '–' : pct(st.successRate);
    if (compactView) return [name, next, last, rate, health];
    return [name, h('span', null, h('code', null, s.cron), s.time_zone !== 'UTC' ? h('span', { class: 'sub' }, s.time_zone) : null),
      s.kind, next, last, fmtInt(st.totalExecutions || 0), rate, ms(st.p95Duration),
      h('span', { class: st.consecutiveFailures >= 3 ? 'bad' : '' }, fmtInt(st.consecutiveFailures || 0)), health];
  });
  return table(cols, rows, {
    id: 'schedules', empty: 'No schedules yet: jobctl schedule create, or a schedule file.',
    link: i => href('/schedules/' + encodeURIComponent(schedules[i].name)),
    data: i => ({ schedule: schedules[i].name, health: healthOf(schedules[i].name, alerts).length ? 'alerting' : 'healthy' }),
  });
}

function jobTable(jobs, compactView) {
  const cols = compactView
    ? [{ label: 'Job' }, { label: 'Kind' }, { label: 'State' }, { label: 'Attempt', num: true }, { label: 'Error' }]
    : [{ label: 'Job', num: true }, { label: 'Kind' }, { label: 'Queue' }, { label: 'State' }, { label: 'Outcome' },
       { label: 'Attempt', num: true }, { label: 'Schedule' }, { label: 'Created' }, { label: 'Took', num: true },
       { label: 'Last error' }];
  const rows = jobs.map(j => {
    const id = h('a', { href: href('/jobs/' + j.id) }, '#' + j.id);
    const err = h('td', { class: 'err', title: j.last_error || '' }, j.last_error || '');
    const attempts = j.attempt + ' / ' + j.max_attempts;
    if (compactView) return [id, j.kind, badge(j.state), attempts, err];
    return [id, j.kind, j.queue, badge(j.state), j.outcome ? badge(j.outcome) : h('span', { class: 'muted' }, '–'),
      attempts, j.schedule ? h('a', { href: href('/schedules/' + encodeURIComponent(j.schedule)) }, j.schedule) : h('span', { class: 'muted' }, '–'),
      when(j.created_at), ms(durationBetween(j.attempted_at, j.finished_at)), err];
  });
  return table(cols, rows, {
    id: 'jobs', empty: compactView ? 'No failures. ' : 'No jobs match these filters.',
    link: i => href('/jobs/' + jobs[i].id),
    data: i => ({ jobId: jobs[i].id, state: jobs[i].state }),
  });
}

// The job browser: filters live in the address, so every view is a link.
async function jobBrowser(params) {
  const filters = {};
  for (const k of ['state', 'outcome', 'kind', 'queue', 'schedule', 'parent']) {
    if (params.get(k)) filters[k] = params.get(k);
  }
  const cursor = params.get('cursor');
  const q = new URLSearchParams(Object.assign({ limit: 50 }, filters, cursor ? { cursor } : {}));
  const [page, queues, schedules] = await Promise.all([
    api('/api/jobs?' + q), api('/api/queues'), api('/api/schedules')]);
  const kinds = [...new Set(queues.rows.map(r => r.kind))].sort();
  const queueNames = [...new Set(queues.rows.map(r => r.queue))].sort();
  const set = (k, v) => {
    const next = Object.assign({}, filters);
    if (v) next[k] = v; else delete next[k];
    go('/jobs', next);
  };
  const stateChip = (label, value, n) => h('button', {
    type: 'button', class: 'chip' + ((filters.state || '') === value ? ' on' : ''),
    dataset: { state: value || 'all' }, on: { click: () => set('state', value) } },
    label, n == null ? null : h('span', { class: 'n' }, compact(n)));
  const total = Object.values(queues.states).reduce((a, b) => a + b, 0);
  const select = (key, label, options) => h('label', null, label, h('select', {
    dataset: { filter: key }, on: { change: ev => set(key, ev.target.value) } },
    h('option', { value: '' }, 'any'),
    options.map(o => h('option', { value: o, selected: filters[key] === o }, o.replace(/_/g, ' ')))));
  const pageNo = Number(params.get('page') || 1);
  return h('div', { dataset: { view: 'jobs' } },
    h('div', { class: 'page-head' },
      h('div', { class: 'titles' }, h('h1', null, 'Jobs'),
        h('div', { class: 'subtitle' }, filters.parent ? ['Children of ', h('a', { href: href('/jobs/' + filters.parent) }, 'job #' + filters.parent)]
          : 'Every job the hot table holds, newest first'))),
    h('section', { class: 'card' },
      h('div', { class: 'filters' },
        h('div', { class: 'chips' }, stateChip('All', '', total),
          STATES.map(s => stateChip(s[0].toUpperCase() + s.slice(1), s, queues.states[s]))),
        h('div', { class: 'filter-row' },
          select('outcome', 'Outcome', OUTCOMES), select('kind', 'Kind', kinds), select('queue', 'Queue', queueNames),
          select('schedule', 'Schedule', schedules.schedules.map(s => s.name)),
          Object.keys(filters).length ? h('a', { href: '#/jobs' }, 'Clear filters') : null)),
      jobTable(page.jobs, false),
      h('div', { class: 'pager' },
        h('span', null, page.jobs.length ? 'Page ' + pageNo + ' · ' + page.jobs.length + ' jobs' : ''),
        h('span', { class: 'spacer' }),
        cursor ? h('a', { class: 'btn', href: href('/jobs', filters) }, '⇤ Newest') : null,
        page.next_before_id ? h('a', { class: 'btn', id: 'older', href: href('/jobs', Object.assign({}, filters,
          { cursor: page.next_before_id, page: pageNo + 1 })) }, 'Older →') : null)));
}

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(p => p).map(([k, v]) => [h('dt', null, k), h('dd', null, v == null || v === '' ? h('span', { class: 'muted' }, '–') : v)]));
}

async function jobDetail(id) {
  const job = await api('/api/jobs/' + encodeURIComponent(id));
  const live = ['scheduled', 'available', 'running', 'retryable'].includes(job.state);
  const runs = job.runs || [];
  const newest = runs.length ? runs[runs.length - 1] : null;
  const longest = Math.max(1, ...runs.map(r => r.duration_ms));
  const actions = [];
  if (canOperate()) {
    if (['discarded', 'cancelled', 'retryable', 'scheduled'].includes(job.state)) {
      actions.push(h('button', { class: 'btn btn-primary', id: 'retry', type: 'button', on: { click: () => confirmAction({
        title: 'Retry job #' + job.id + '?', body: job.kind + ' becomes available now and runs again' +
          (job.attempt >= job.max_attempts ? ' (one more attempt is allowed).' : '.'),
        ok: 'Retry now', run: () => api('/api/jobs/' + job.id + '/retry', { method: 'POST' }),
        done: j => 'Job #' + j.id + ' is ' + j.state }) } }, '↻ Retry'));
    }
    if (live) {
      actions.push(h('button', { class: 'btn btn-danger', id: 'cancel', type: 'button', on: { click: () => confirmAction({
        title: 'Cancel job #' + job.id + '?', danger: true,
        body: job.state === 'running' ? 'Its worker is asked to stop; the job ends cancelled when it does.'
                                      : 'It will not run; it ends cancelled now.',
        ok: 'Cancel job', run: () => api('/api/jobs/' + job.id + '/cancel', { method: 'POST' }),
        done: r => r.cancelled_now ? 'Job #' + job.id + ' cancelled' : 'Job #' + job.id + ' asked to stop' }) } }, '✕ Cancel'));
    }
  }
  const attempts = runs.map(r => h('li', { dataset: { runId: r.id, outcome: r.outcome } },
    h('span', { class: 'dot', style: { background: COLORS[r.outcome] || (BADGE[r.outcome] === 'b-bad' ? COLORS.failed : COLORS.skipped) } }),
    h('div', { class: 'title' }, 'Attempt ' + r.attempt, badge(r.outcome), r.dry_run ? badge('dry run', 'b-neutral plain') : null),
    h('div', { class: 'meta' }, h('span', null, 'worker ', h('b', null, r.worker_id || '–')),
      h('span', { title: r.started_at }, 'started ' + absTime(r.started_at)), h('span', null, 'took ' + ms(r.duration_ms))),
    h('div', { class: 'bar' }, h('span', { style: { width: Math.max(1, 100 * r.duration_ms / longest) + '%',
      background: COLORS[r.outcome] || COLORS.failed } })),
    r.errors && r.errors.length ? h('ul', { class: 'errors' }, r.errors.map(e => h('li', null, e))) : null,
    r.summary && Object.keys(r.summary).length && r !== newest ? h('div', { class: 'summary-tree' },
      jsonTree(r.summary, '$run' + r.id)) : null));
  if (job.state === 'running') {
    attempts.push(h('li', null, h('span', { class: 'dot', style: { background: '#3b82f6' } }),
      h('div', { class: 'title' }, 'Attempt ' + job.attempt, badge('running')),
      h('div', { class: 'meta' }, h('span', null, 'worker ', h('b', null, job.worker_id || '–')),
        h('span', null, 'started ' + absTime(job.attempted_at)), h('span', null, 'running for ' + ago(job.attempted_at).replace(' ago', '')))));
  } else if (live) {
    attempts.push(h('li', null, h('span', { class: 'dot', style: { background: '#cbd5e1' } }),
      h('div', { class: 'title' }, 'Attempt ' + (job.attempt + 1), badge(job.state)),
      h('div', { class: 'meta' }, h('span', null, 'runs ' + ago(job.run_at)))));
  }
  const order = OUTCOMES.concat(['live']);
  const children = Object.entries(job.children_outcomes || {}).sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
  const nChildren = children.reduce((n, [, v]) => n + v, 0);
  const liveChildren = (job.children_outcomes || {}).live || 0;
  const childColors = Object.assign({ live: '#3b82f6' }, COLORS);
  const fanOut = nChildren ? card('Fan-out', fmtInt(nChildren - liveChildren) + ' of ' + fmtInt(nChildren) + ' children finished', [
    h('div', { class: 'progress' }, children.map(([o, n]) => h('span', { title: o + ': ' + n,
      style: { width: (100 * n / nChildren) + '%', background: childColors[o] || COLORS.skipped } }))),
    h('div', { class: 'legend' }, children.map(([o, n]) => h('span', { dataset: { childOutcome: o } },
      h('i', { style: { background: childColors[o] || COLORS.skipped } }), o + ' ' + fmtInt(n)))),
    h('p', null, h('a', { href: href('/jobs', { parent: job.id }) }, 'Browse the children →'))]) : null;

  return h('div', { dataset: { view: 'job', jobId: job.id, state: job.state, outcome: job.outcome || '' } },
    h('div', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' / #' + job.id),
    h('div', { class: 'page-head' },
      h('div', { class: 'titles' },
        h('h1', null, job.kind, h('span', { class: 'id' }, '#' + job.id), badge(job.state),
          job.outcome && job.outcome !== job.state ? badge(job.outcome) : null,
          job.dry_run ? badge('dry run', 'b-neutral plain') : null),
        h('div', { class: 'subtitle' },
          h('span', null, 'queue ', h('b', null, job.queue)),
          h('span', null, 'attempt ', h('b', null, job.attempt + ' of ' + job.max_attempts)),
          job.schedule ? h('span', null, 'fired by ', h('a', { href: href('/schedules/' + encodeURIComponent(job.schedule)) }, job.schedule)) : null,
          job.parent_id ? h('span', null, 'child of ', h('a', { href: href('/jobs/' + job.parent_id) }, '#' + job.parent_id)) : null)),
      h('div', { class: 'actions' }, actions)),
    h('div', { class: 'grid g-side' },
      h('div', { class: 'stack' },
        card('Attempts', runs.length + (runs.length === 1 ? ' attempt' : ' attempts'),
          attempts.length ? h('ol', { class: 'timeline', id: 'attempts' }, attempts) : h('div', { class: 'empty' }, 'Not attempted yet.'),
          { flush: true }),
        newest ? card('Result', 'attempt ' + newest.attempt + ' · ' + newest.outcome.replace(/_/g, ' '),
          [newest.summary && Object.keys(newest.summary).length ? h('div', { id: 'result' }, jsonTree(newest.summary, '$result'))
            : h('div', { class: 'muted' }, 'The handler reported no summary.')],
          { tools: newest.summary && Object.keys(newest.summary).length ? copyButton(newest.summary) : null }) : null,
        fanOut,
        job.progress ? card('Progress', 'the handler\'s latest report', jsonTree(job.progress, '$progress')) : null,
        card('Payload', null, h('div', { id: 'payload' }, jsonTree(job.payload, '$payload')), { tools: copyButton(job.payload) })),
      h('div', { class: 'stack' },
        card('Details', null, kv([
          ['State', badge(job.state)], ['Outcome', job.outcome ? badge(job.outcome) : null],
          ['Queue', job.queue], ['Priority', String(job.priority)],
          ['Attempts', job.attempt + ' of ' + job.max_attempts + (job.rescue_count ? ' · rescued ' + job.rescue_count + '×' : '')],
          ['Invocation', job.invocation],
          job.schedule_id ? ['Schedule', job.schedule ? h('a', { href: href('/schedules/' + encodeURIComponent(job.schedule)) }, job.schedule) : 'deleted (' + job.schedule_id + ')'] : null,
          job.scheduled_for ? ['Tick', absTime(job.scheduled_for)] : null,
          job.parent_id ? ['Parent', h('a', { href: href('/jobs/' + job.parent_id) }, '#' + job.parent_id)] : null,
          ['Created', h('span', { title: job.created_at }, absTime(job.created_at))],
          ['Runs at', h('span', { title: job.run_at }, absTime(job.run_at))],
          ['Finished', job.finished_at ? h('span', { title: job.finished_at }, absTime(job.finished_at)) : null],
          ['Timeout', job.timeout_ms ? ms(job.timeout_ms) : 'worker default'],
          job.unique_key ? ['Unique key', h('code', null, job.unique_key)] : null,
          job.worker_id ? ['Worker', job.worker_id] : null,
          job.cancel_requested ? ['Cancel', badge('requested', 'b-warn')] : null,
          job.last_error ? ['Last error', h('span', { class: 'bad' }, job.last_error)] : null])))));
}

async function scheduleList() {
  const [schedules, stats, alerts] = await Promise.all([api('/api/schedules'), api('/api/stats?by=schedule&hours=24'), api('/api/alerts')]);
  return h('div', { dataset: { view: 'schedules' } },
    h('div', { class: 'page-head' }, h('div', { class: 'titles' }, h('h1', null, 'Schedules'),
      h('div', { class: 'subtitle' }, 'Figures over the last 24 hours'))),
    h('section', { class: 'card' }, scheduleTable(schedules.schedules, stats.stats, alerts.alerts, false)));
}

function weekdayLocal(local) {
  // "2026-03-29T03:00:00+02:00" -> "Sun 29 Mar, 03:00" as the zone reads it.
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(local);
  if (!m) return local;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }) + ', ' + m[4] + ':' + m[5];
}

async function scheduleDetail(name) {
  const range = session.range;
  const hours = { '1h': 1, '24h': 24, '7d': 168 }[range];
  const enc = encodeURIComponent(name);
  const [s, stats, fires, series] = await Promise.all([
    api('/api/schedules/' + enc), api('/api/stats?by=schedule&hours=' + hours + '&name=' + enc),
    api('/api/fires?limit=15&schedule=' + enc), api('/api/series/runs?range=' + range + '&schedule=' + enc)]);
  const st = stats.stats[0] || {};
  const firing = s.health.rules.filter(r => r.state === 'firing');
  const actions = [];
  if (canOperate()) {
    actions.push(h('button', { class: 'btn btn-primary', id: 'trigger', type: 'button', on: { click: () => confirmAction({
      title: 'Trigger ' + s.name + ' now?', body: 'Fires one ' + s.kind + ' job now, under the schedule\'s overlap policy (' +
        s.overlap + '). At most 5 triggers a minute.', ok: 'Trigger now',
      run: () => api('/api/schedules/' + enc + '/trigger', { method: 'POST' }),
      done: r => r.fire.job_id ? 'Triggered: job #' + r.fire.job_id : 'Triggered: ' + (r.fire.outcome || 'recorded') }) } }, '▶ Trigger now'));
    actions.push(s.paused
      ? h('button', { class: 'btn', id: 'resume', type: 'button', on: { click: () => confirmAction({
          title: 'Resume ' + s.name + '?', body: 'It fires again from its next tick; the ticks missed while paused are not fired.',
          ok: 'Resume', run: () => api('/api/schedules/' + enc + '/resume', { method: 'POST' }), done: () => s.name + ' resumed' }) } }, 'Resume')
      : h('button', { class: 'btn', id: 'pause', type: 'button', on: { click: () => confirmAction({
          title: 'Pause ' + s.name + '?', body: 'No tick fires until it is resumed. Jobs already enqueued still run.', danger: true,
          ok: 'Pause', run: () => api('/api/schedules/' + enc + '/pause', { method: 'POST' }), done: () => s.name + ' paused' }) } }, '❚❚ Pause'));
  }
  const zone = s.zone_now;
  const nextRows = (s.next_fires_local || []).map(f => [
    h('span', null, weekdayLocal(f.local), f.change ? h('span', { class: 'dst-note' }, '  clock change') : null),
    h('span', { class: 'mono' }, f.abbrev + ' (UTC' + f.offset + ')', f.dst ? h('span', { class: 'sub' }, 'daylight saving') : null),
    when(f.at)]);
  const fireRows = fires.fires.map(f => [
    h('span', { title: f.scheduled_for }, absTime(f.scheduled_for)), badge(f.outcome), f.origin,
    f.job_id ? h('a', { href: href('/jobs/' + f.job_id) }, '#' + f.job_id) : h('span', { class: 'muted' }, '–'),
    f.job_outcome ? badge(f.job_outcome) : f.job_state ? badge(f.job_state) : h('span', { class: 'muted' }, f.job_id ? 'cleaned up' : '–'),
    f.attempts == null ? '–' : String(f.attempts)]);
  const ruleRows = s.health.rules.map(r => [
    h('span', { class: r.state === 'off' ? 'rule-off' : '' }, r.rule.replace(/_/g, ' ')),
    h('span', { class: r.state === 'off' ? 'rule-off' : '' }, r.condition, r.overridden ? h('span', { class: 'sub' }, 'set for this schedule') : null),
    h('span', null, badge(r.state), r.alert ? h('span', { class: 'sub' }, 'since ' + ago(r.alert.firedAt)) : null)]);
  const runRows = (s.recent_runs || []).map(r => [h('a', { href: href('/jobs/' + r.job_id) }, '#' + r.job_id), String(r.attempt),
    badge(r.outcome), when(r.finished_at), ms(r.duration_ms), h('td', { class: 'err', title: (r.errors || []).join('\n') }, (r.errors || [])[0] || '')]);

  return h('div', { dataset: { view: 'schedule', schedule: s.name, paused: s.paused } },
    h('div', { class: 'crumbs' }, h('a', { href: '#/schedules' }, 'Schedules'), ' / ' + s.name),
    h('div', { class: 'page-head' },
      h('div', { class: 'titles' },
        h('h1', null, s.name, s.paused ? badge('paused', 'b-warn') : badge('active', 'b-ok'),
          firing.length ? badge(firing.length + ' alert' + (firing.length > 1 ? 's' : '') + ' firing', 'b-bad') : badge('healthy', 'b-ok')),
        h('div', { class: 'subtitle' }, h('span', null, h('code', null, s.cron), ' in ', h('b', null, s.time_zone),
          zone ? ' (' + zone.abbrev + ', UTC' + zone.offset + ')' : ''),
          h('span', null, 'runs ', h('b', null, s.kind)), h('span', null, 'queue ', h('b', null, s.queue)),
          h('span', null, 'overlap ', h('b', null, s.overlap.replace(/_/g, ' '))), h('span', null, 'misfire ', h('b', null, s.misfire.replace(/_/g, ' '))))),
      h('div', { class: 'actions' }, rangeControl(), actions)),
    h('div', { class: 'stats' },
      stat('Runs', fmtInt(st.totalExecutions || 0), 'in the last ' + range),
      stat('Success rate', pct(st.successRate), (st.failureCount || 0) + ' failed', st.successRate != null && st.successRate < 0.8 ? 'warn' : ''),
      stat('Duration', ms(st.averageDuration), 'average · p95 ' + ms(st.p95Duration)),
      stat('Failing streak', fmtInt(st.consecutiveFailures || 0), 'failures since the last success', st.consecutiveFailures >= 3 ? 'bad' : ''),
      stat('Next fire', s.paused ? 'paused' : s.next_fires.length ? ago(s.next_fires[0]).replace('in ', '') : '–',
           s.next_fires_local.length ? weekdayLocal(s.next_fires_local[0].local) : '')),
    h('div', { class: 'grid g2' },
      card('Runs by outcome', (series.counts === 'attempts' ? 'attempts' : 'runs') + ' per ' + (range === '1h' ? 'minute' : 'hour'), runsChart(series, 'schedule-runs')),
      card('Duration', 'p50 and p95 per ' + (range === '1h' ? 'minute' : 'hour'), durationChart(series))),
    h('div', { class: 'grid g2' },
      card('Next fires', zone ? 'in ' + s.time_zone + ', now ' + zone.abbrev + ' (UTC' + zone.offset + ')' : s.time_zone,
        table([{ label: 'Local time' }, { label: 'Zone' }, { label: '' }], nextRows,
          { id: 'next-fires', empty: s.paused ? 'Paused: nothing fires.' : 'No fire in sight.',
            rowClass: i => s.next_fires_local[i].change ? 'fire-change' : '',
            data: i => ({ change: s.next_fires_local[i].change }) }), { flush: true }),
      card('Health rules', s.health.enabled ? 'checked every 30 s by the leader' : 'turned off for this schedule',
        table([{ label: 'Rule' }, { label: 'Alerts when' }, { label: 'State' }], ruleRows,
          { id: 'health', data: i => ({ rule: s.health.rules[i].rule, state: s.health.rules[i].state }) }), { flush: true })),
    card('Recent fires', 'every tick, skipped ones included', table(
      [{ label: 'Tick' }, { label: 'Fire' }, { label: 'Origin' }, { label: 'Job' }, { label: 'Outcome' }, { label: 'Attempts' }],
      fireRows, { id: 'fires', empty: 'No tick fired yet.', data: i => ({ fireOutcome: fires.fires[i].outcome }),
        link: i => fires.fires[i].job_id ? href('/jobs/' + fires.fires[i].job_id) : null }), { flush: true }),
    h('div', { class: 'grid g2' },
      card('Recent runs', null, table([{ label: 'Job' }, { label: 'Attempt', num: true }, { label: 'Outcome' },
        { label: 'Finished' }, { label: 'Took', num: true }, { label: 'Error' }], runRows,
        { id: 'recent-runs', empty: 'No run yet.', link: i => href('/jobs/' + s.recent_runs[i].job_id) }), { flush: true }),
      card('Settings', null, [kv([['Kind', s.kind], ['Queue', s.queue], ['Priority', String(s.priority)],
        ['Max attempts', String(s.max_attempts)], ['Timeout', s.timeout_ms ? ms(s.timeout_ms) : 'worker default'],
        ['Jitter', s.jitter_ms ? ms(s.jitter_ms) : 'none'], ['Source', s.source], ['Created', absTime(s.created_at)]]),
        h('h3', { class: 'muted', style: { fontSize: '12.5px', margin: '14px 0 4px' } }, 'Payload'), jsonTree(s.payload, '$schedule-payload')])));
}

async function queuesView() {
  const range = session.range;
  const [queues, qseries, workers] = await Promise.all([api('/api/queues'), api('/api/series/queues?range=' + range), api('/api/workers')]);
  const running = new Map();
  for (const r of queues.rows) if (r.state === 'running') running.set(r.queue, (running.get(r.queue) || 0) + r.count);
  const names = [...new Set(queues.rows.map(r => r.queue).concat(queues.queues.map(q => q.queue)))].sort();
  const depth = new Map(queues.queues.map(q => [q.queue, q]));
  const queueRows = names.map(n => [h('a', { href: href('/jobs', { queue: n }) }, n), fmtInt(depth.get(n) ? depth.get(n).ready : 0),
    fmtInt(running.get(n) || 0), depth.get(n) ? ms(depth.get(n).oldest_ready_age_ms) : '–',
    fmtInt(workers.workers.filter(w => (w.queues || []).includes(n)).length)]);
  const workerRows = workers.workers.map(w => {
    const busy = w.slots - w.free_slots;
    return [h('b', null, w.worker_id), h('span', null, w.host, h('span', { class: 'sub' }, 'pid ' + w.pid + (w.version ? ' · ' + w.version : ''))),
      (w.queues || []).join(', '), h('div', { class: 'slots' }, h('div', { class: 'bar' }, h('span', { style: { width: (100 * busy / Math.max(1, w.slots)) + '%' } })),
        busy + ' / ' + w.slots), when(w.last_seen)];
  });
  return h('div', { dataset: { view: 'queues' } },
    h('div', { class: 'page-head' }, h('div', { class: 'titles' }, h('h1', null, 'Queues & workers'),
      h('div', { class: 'subtitle' }, 'Depth is sampled by the leading scheduler every 15 s')),
      h('div', { class: 'actions' }, rangeControl())),
    h('div', { class: 'grid g2' },
      card('Ready jobs', 'per queue', queueChart(qseries, 'ready', 'queue-depth')),
      card('Running jobs', 'per queue', queueChart(qseries, 'running', 'queue-running'))),
    h('div', { class: 'grid g2' },
      card('Queues', names.length + ' known', table([{ label: 'Queue' }, { label: 'Ready', num: true }, { label: 'Running', num: true },
        { label: 'Oldest ready', num: true }, { label: 'Workers', num: true }], queueRows,
        { id: 'queues', empty: 'No queue has jobs.', data: i => ({ queue: names[i] }) }), { flush: true }),
      card('Oldest ready job', 'per queue', queueChart(qseries, 'oldest_ready_ms', 'queue-age', v => ms(v)))),
    card('Workers', workers.workers.length + ' connected', table([{ label: 'Worker' }, { label: 'Host' }, { label: 'Queues' },
      { label: 'Busy slots' }, { label: 'Last seen' }], workerRows,
      { id: 'workers', empty: 'No worker is connected.', data: i => ({ workerId: workers.workers[i].worker_id }) }), { flush: true }));
}

// ---------------------------------------------------------------- actions

function confirmAction({ title, body, ok, danger, run, done }) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-body').textContent = body;
  const button = document.getElementById('confirm-ok');
  button.textContent = ok;
  button.className = 'btn ' + (danger ? 'btn-danger solid' : 'btn-primary');
  dialog.returnValue = '';
  dialog.onclose = async () => {
    if (dialog.returnValue !== 'ok') return;
    try {
      const result = await run();
      toast(done(result));
    } catch (e) {
      if (e instanceof Unauthorized) return showLogin(e.message);
      toast(e.message, true);
    }
    render();
  };
  dialog.showModal();
}

// ----------------------------------------------------------------- router

function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  return { path: path || '/', params: new URLSearchParams(query || '') };
}

async function viewFor(route) {
  const parts = route.path.split('/').filter(Boolean).map(decodeURIComponent);
  if (route.params.get('range') && ['1h', '24h', '7d'].includes(route.params.get('range'))) session.range = route.params.get('range');
  if (!parts.length) return ['overview', await overview()];
  if (parts[0] === 'jobs' && parts.length === 1) return ['jobs', await jobBrowser(route.params)];
  if (parts[0] === 'jobs' && parts.length === 2) return ['jobs', await jobDetail(parts[1])];
  if (parts[0] === 'schedules' && parts.length === 1) return ['schedules', await scheduleList()];
  if (parts[0] === 'schedules' && parts.length === 2) return ['schedules', await scheduleDetail(parts[1])];
  if (parts[0] === 'queues') return ['queues', await queuesView()];
  return ['', h('div', { class: 'empty' }, 'No such page. ', h('a', { href: '#/' }, 'Overview'))];
}

let rendering = 0;

async function render() {
  clearTimeout(session.timer);
  const mine = ++rendering;
  const hash = location.hash;
  const route = parseRoute();
  const sameRoute = session.route === location.hash;
  const error = document.getElementById('error');
  const app = document.getElementById('app');
  if (!sameRoute && !app.firstChild) app.replaceChildren(h('div', { class: 'loading' }, 'Loading…'));
  try {
    if (!session.me) {
      session.me = await api('/api/whoami');
      document.body.dataset.scope = session.me.scope;
      const who = document.getElementById('whoami');
      who.replaceChildren(h('b', null, session.me.name), ' · ' + session.me.scope);
      who.hidden = false;
    }
    const [nav, view] = await viewFor(route);
    if (mine !== rendering) return;  // A newer render started meanwhile.
    const scroll = window.scrollY;
    destroyCharts();
    view.dataset.route = hash;  // What this view shows, for tests and deep links.
    app.replaceChildren(view);
    drawCharts(app);
    if (sameRoute) window.scrollTo(0, scroll); else window.scrollTo(0, 0);
    session.route = location.hash;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === nav);
    for (const id of ['nav', 'logout']) document.getElementById(id).hidden = false;
    document.getElementById('login-page').hidden = true;
    error.hidden = true;
    document.body.dataset.loaded = 'true';
  } catch (e) {
    if (mine !== rendering) return;
    if (e instanceof Unauthorized) return showLogin(e.message);
    error.textContent = e.status === 404 ? 'Not found: ' + e.message : 'Could not load this page: ' + e.message;
    error.hidden = false;
    if (e.status === 404) { destroyCharts(); app.replaceChildren(); }
  }
  drawReady();
  if (!document.getElementById('confirm').open) session.timer = setTimeout(render, REFRESH_MS);
}

async function drawReady() {
  const pill = document.getElementById('ready');
  try {
    const res = await fetch('/readyz', { cache: 'no-store' });
    const body = await res.json();
    const leader = body.checks && body.checks.leader ? body.checks.leader.status : '';
    pill.textContent = (res.ok ? 'ready' : body.status) + (leader ? ' · ' + leader : '');
    pill.className = 'status-pill ' + (res.ok ? 'ok' : 'bad');
  } catch (e) {
    pill.textContent = 'unreachable';
    pill.className = 'status-pill bad';
  }
  pill.hidden = false;
}

function showLogin(message) {
  clearTimeout(session.timer);
  destroyCharts();
  sessionStorage.removeItem(TOKEN_KEY);
  session.me = null;
  session.route = null;
  document.getElementById('app').replaceChildren();
  for (const id of ['nav', 'logout', 'whoami', 'ready', 'error']) document.getElementById(id).hidden = true;
  document.getElementById('login-page').hidden = false;
  const err = document.getElementById('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  delete document.body.dataset.loaded;
}

function takeTokenFromHash() {
  if (!location.hash.startsWith('#token=')) return;
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, '', location.pathname + location.search + '#/');
}

document.addEventListener('DOMContentLoaded', () => {
  setupCharts();
  takeTokenFromHash();
  document.getElementById('login').addEventListener('submit', ev => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
    document.getElementById('token').value = '';
    render();
  });
  document.getElementById('logout').addEventListener('click', () => showLogin(''));
  document.getElementById('confirm').addEventListener('close', () => { clearTimeout(session.timer); session.timer = setTimeout(render, REFRESH_MS); });
  window.addEventListener('hashchange', () => { takeTokenFromHash(); render(); });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) render(); });
  if (sessionStorage.getItem(TOKEN_KEY)) render(); else showLogin('');
});
