// Chime's dashboard, part 3 of 3: the routes, rendering and refresh, the
// confirmed actions and signing in. One page of views behind hash routes
// (deep links):
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
// allows scripts from this origin only (these three files and Chart.js).
'use strict';

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
