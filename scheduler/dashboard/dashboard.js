// Chime's dashboard: reads the scheduler's /api with a token of scope read
// (or more) and redraws every few seconds. /api/whoami names the token and
// its scope (body data-scope), so actions can be offered to operate tokens
// only. No external network; every value from the API is inserted as text,
// never as HTML.
'use strict';

const TOKEN_KEY = 'chime.token';
const params = new URLSearchParams(location.search);
const REFRESH_MS = Math.max(1, Number(params.get('refresh') || 5)) * 1000;

// "#token=T" (or "#/jobs/12&token=T", a job's view opened with the token):
// the token goes to this tab's storage and leaves the address at once.
function takeTokenFromHash() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    const route = [...hash.keys()].find(k => k.startsWith('/'));
    history.replaceState(null, '', location.pathname + location.search + (route ? '#' + route : ''));
  }
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

class Unauthorized extends Error {}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: 'Bearer ' + token() }, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized('the token was refused');
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const message = body && body.error ? body.error.message : res.statusText;
    throw new Error(path + ': HTTP ' + res.status + ' ' + message);
  }
  return body;
}

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function row(cells, data) {
  const tr = document.createElement('tr');
  for (const [key, value] of Object.entries(data)) tr.dataset[key] = String(value);
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c));
  return tr;
}

function td(child, className) {
  const cell = el('td', undefined, className);
  if (child instanceof Node) cell.appendChild(child); else cell.textContent = child == null ? '' : String(child);
  return cell;
}

function fill(id, rows) {
  const body = document.querySelector('#' + id + ' tbody');
  body.replaceChildren(...rows);
  document.getElementById(id + '-empty').hidden = rows.length > 0;
  const count = document.getElementById(id + '-count');
  if (count) count.textContent = '(' + rows.length + ')';
}

function when(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  const s = Math.round((t.getTime() - Date.now()) / 1000);
  const abs = Math.abs(s);
  const span = abs < 90 ? abs + ' s' : abs < 5400 ? Math.round(abs / 60) + ' min'
             : abs < 172800 ? Math.round(abs / 3600) + ' h' : Math.round(abs / 86400) + ' d';
  return (s >= 0 ? 'in ' + span : span + ' ago');
}

function timeCell(iso) {
  const cell = td(when(iso));
  if (iso) cell.title = iso;
  return cell;
}

function ms(v) {
  if (v == null) return '';
  return v < 1000 ? Math.round(v) + ' ms' : v < 120000 ? (v / 1000).toFixed(1) + ' s' : (v / 60000).toFixed(1) + ' min';
}

function outcomeCell(outcome) {
  const bad = ['failed', 'discarded', 'lease_expired'].includes(outcome);
  const warn = ['partial', 'cancelled', 'skipped', 'waiting', 'skipped_overlap', 'skipped_misfire'].includes(outcome);
  return td(outcome || '', bad ? 'bad' : warn ? 'warn' : outcome ? 'ok' : '');
}

// A run's final outcome: a final row without one is a fan-out waiting for its children.
function runOutcome(r) {
  return r.job_outcome || (r.final ? 'waiting' : '');
}

function jobLink(id) {
  const a = el('a', id);
  a.href = '#/jobs/' + encodeURIComponent(id);
  return a;
}

function drawAlerts(alerts) {
  fill('alerts', alerts.map(a => row([
    td(a.jobName), td(a.type), td(a.message), timeCell(a.firedAt),
    td(a.delivery + (a.deliveryError ? ' (' + a.deliveryError + ')' : ''))
  ], { alertId: a.id, schedule: a.jobName, rule: a.type })));
}

function drawSchedules(schedules, stats, alerts) {
  const byName = new Map(stats.map(s => [s.jobName, s]));
  const firing = new Map();
  for (const a of alerts) firing.set(a.jobName, (firing.get(a.jobName) || []).concat(a.type));
  fill('schedules', schedules.map(s => {
    const st = byName.get(s.name) || {};
    const rules = firing.get(s.name) || [];
    const rate = st.successRate == null ? '' : (st.successRate * 100).toFixed(1) + ' %';
    return row([
      td(s.name), td(s.cron + (s.time_zone && s.time_zone !== 'UTC' ? ' (' + s.time_zone + ')' : '')),
      td(s.kind), td(s.state, s.paused ? 'warn' : ''), timeCell(s.next_fire),
      outcomeCell(s.last_run_outcome || s.last_fire_outcome),
      td(st.totalExecutions == null ? 0 : st.totalExecutions, 'num'), td(rate, 'num'),
      td(st.averageDuration == null ? '' : ms(st.averageDuration) + ' / ' + ms(st.p95Duration), 'num'),
      td(st.consecutiveFailures || 0, 'num' + (st.consecutiveFailures >= 3 ? ' bad' : '')),
      td(rules.length ? rules.join(', ') : 'healthy', rules.length ? 'bad' : 'ok')
    ], { schedule: s.name, health: rules.length ? 'alerting' : 'healthy' });
  }));
}

function drawQueues(queues) {
  fill('queues', queues.map(q => row([td(q.queue), td(q.ready, 'num'), td(ms(q.oldest_ready_age_ms), 'num')],
                                     { queue: q.queue, ready: q.ready })));
}

function drawWorkers(workers) {
  fill('workers', workers.map(w => row([
    td(w.worker_id), td(w.host + ' (pid ' + w.pid + ')'), td((w.queues || []).join(', ')),
    td((w.slots - w.free_slots) + ' / ' + w.slots, 'num'), timeCell(w.last_seen)
  ], { workerId: w.worker_id })));
}

function drawRuns(runs) {
  fill('runs', runs.map(r => {
    const errors = el('ul', undefined, 'errors');
    for (const e of r.errors || []) errors.appendChild(el('li', e));
    const summary = r.summary && Object.keys(r.summary).length ? JSON.stringify(r.summary) : '';
    return row([
      td(r.id), td(jobLink(r.job_id)), td(r.kind), td(r.schedule || ''), outcomeCell(runOutcome(r)),
      td(r.attempt, 'num'), outcomeCell(r.outcome), timeCell(r.finished_at), td(ms(r.duration_ms), 'num'),
      td(el('code', summary, 'json')), td(errors)
    ], { runId: r.id, jobId: r.job_id, outcome: runOutcome(r), attemptOutcome: r.outcome });
  }));
}

// #/jobs/<id>: one job with its outcome and every attempt (alert notices link here).
function jobRoute() {
  const m = /^#\/jobs\/(\d+)$/.exec(location.hash);
  return m ? m[1] : null;
}

function drawJob(job) {
  const section = document.getElementById('job');
  if (!job) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  document.getElementById('job-title').textContent = 'Job ' + job.id + ' (' + job.kind + ')';
  const outcome = job.outcome ||
      (job.waiting_for_children != null ? 'waiting for ' + job.waiting_for_children + ' children' : '');
  const fields = [
    ['State', job.state], ['Outcome', outcome], ['Schedule', job.schedule || ''],
    ['Tick', job.scheduled_for || ''], ['Attempts', job.attempt + ' of ' + job.max_attempts],
    ['Children', Object.entries(job.children || {}).map(([s, n]) => n + ' ' + s).join(', ')],
    ['Last error', job.last_error || ''], ['Created', job.created_at], ['Finished', job.finished_at || '']];
  const dl = document.getElementById('job-fields');
  dl.replaceChildren(...fields.flatMap(([k, v]) => [el('dt', k), el('dd', v)]));
  dl.dataset.outcome = job.outcome || '';
  fill('job-runs', (job.runs || []).map(r => {
    const errors = el('ul', undefined, 'errors');
    for (const e of r.errors || []) errors.appendChild(el('li', e));
    const summary = r.summary && Object.keys(r.summary).length ? JSON.stringify(r.summary) : '';
    return row([td(r.attempt, 'num'), outcomeCell(r.outcome), td(r.final ? runOutcome(r) : ''),
                timeCell(r.finished_at), td(ms(r.duration_ms), 'num'), td(el('code', summary, 'json')),
                td(errors)], { attempt: r.attempt, outcome: r.outcome });
  }));
}

async function drawReady() {
  const badge = document.getElementById('ready');
  try {
    const res = await fetch('/readyz', { cache: 'no-store' });
    const body = await res.json();
    const leader = body.checks && body.checks.leader ? body.checks.leader.status : '';
    badge.textContent = body.status + (leader ? ' · leader: ' + leader : '');
    badge.className = 'badge ' + (res.ok ? 'ok' : 'bad');
  } catch (e) {
    badge.textContent = 'unreachable';
    badge.className = 'badge bad';
  }
}

let timer = null;

async function refresh() {
  clearTimeout(timer);
  const hours = document.getElementById('hours').value;
  const error = document.getElementById('error');
  try {
    const jobId = jobRoute();
    const [schedules, stats, alerts, queues, workers, runs, me, job] = await Promise.all([
      api('/api/schedules'), api('/api/stats?by=schedule&hours=' + hours), api('/api/alerts'),
      api('/api/queues'), api('/api/workers'), api('/api/runs?limit=25'), api('/api/whoami'),
      jobId ? api('/api/jobs/' + jobId) : Promise.resolve(null)]);
    document.getElementById('whoami').textContent = me.name + ' · ' + me.scope;
    document.body.dataset.scope = me.scope;
    drawJob(job);
    drawAlerts(alerts.alerts);
    drawSchedules(schedules.schedules, stats.stats, alerts.alerts);
    drawQueues(queues.queues);
    drawWorkers(workers.workers);
    drawRuns(runs.runs);
    error.hidden = true;
    document.getElementById('main').hidden = false;
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.body.dataset.loaded = 'true';
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin(e.message);
    error.textContent = e.message;
    error.hidden = false;
  }
  drawReady();
  timer = setTimeout(refresh, REFRESH_MS);
}

function showLogin(message) {
  clearTimeout(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById('main').hidden = true;
  document.getElementById('login').hidden = false;
  const error = document.getElementById('error');
  error.textContent = message || '';
  error.hidden = !message;
}

document.addEventListener('DOMContentLoaded', () => {
  takeTokenFromHash();
  document.getElementById('login').addEventListener('submit', ev => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value);
    document.getElementById('login').hidden = true;
    refresh();
  });
  document.getElementById('logout').addEventListener('click', () => showLogin(''));
  document.getElementById('hours').addEventListener('change', refresh);
  window.addEventListener('hashchange', () => { if (token()) refresh(); });
  if (token()) refresh(); else showLogin('');
});
