// Chime's dashboard, part 2 of 3: the pages, each an async function that
// reads the API and returns the page's element (see dashboard.js for the
// routes that pick one).
'use strict';

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
        h('span', null, page.jobs.length ? 'Page ' + pageNo + ' · ' + page.jobs.length + ' jobs' : '',
          page.searched_to_id ? ' · searched down to job #' + page.searched_to_id : ''),
        h('span', { class: 'spacer' }),
        cursor ? h('a', { class: 'btn', href: href('/jobs', filters) }, '⇤ Newest') : null,
        page.next_before_id ? h('a', { class: 'btn', id: 'older', href: href('/jobs', Object.assign({}, filters,
          { cursor: page.next_before_id, page: pageNo + 1 })) }, page.searched_to_id ? 'Search older →' : 'Older →') : null)));
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
      h('div', { class: 'meta' }, h('span', null, 'runs ' + ago(job.run_at)),
        job.queue_paused ? h('span', { class: 'waiting-on' }, 'waiting on queue ', h('a', { href: '#/queues' }, job.queue),
          ' paused ' + ago(job.queue_paused.since) + (job.queue_paused.by ? ' by ' + job.queue_paused.by : '')) : null,
        (job.waiting_on || []).map(w => h('span', { class: 'waiting-on' }, 'waiting on ', limitWait(w))))));
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

// "limit github-rate (github): 2 of 2 running" / "10 started in 5s, next slot 12:00:03".
function limitWait(w) {
  const parts = [];
  if (w.concurrency !== null && w.running >= w.concurrency) parts.push(w.running + ' of ' + w.concurrency + ' running');
  if (w.rate !== null && w.started_in_window >= w.rate) {
    parts.push(w.started_in_window + ' started in ' + ms(w.rate_window_ms) + (w.next_slot ? ', next slot ' + absTime(w.next_slot) : ''));
  }
  return h('span', null, h('a', { href: '#/queues' }, w.limit), w.partition ? ' (' + w.partition + ')' : '', ': ' + parts.join('; '));
}

// Each limit's held_back counter as last seen (name -> { v, t, rate }):
// between two renders of the page the difference is the jobs held back per
// minute ('–' until the second).
const heldBackSeen = new Map();

function heldBackPerMinute(l) {
  const now = Date.now(), prev = heldBackSeen.get(l.name);
  const same = prev && l.held_back >= prev.v;  // (Lower: the limit was made again.)
  if (same && now - prev.t < 5000) return prev.rate;  // Too soon to tell: the last rate.
  const rate = same ? (l.held_back - prev.v) * 60000 / (now - prev.t) : null;
  heldBackSeen.set(l.name, { v: l.held_back, t: now, rate });
  return rate;
}

async function queuesView() {
  const range = session.range;
  const [queues, qseries, workers, limits] = await Promise.all([api('/api/queues'), api('/api/series/queues?range=' + range),
    api('/api/workers'), api('/api/limits')]);
  const byName = new Map(queues.queues.map(q => [q.queue, q]));
  const names = [...new Set(queues.rows.map(r => r.queue).concat(queues.queues.map(q => q.queue)))].sort();
  const queueAction = (n, q) => {
    if (!canOperate()) return null;
    const enc = encodeURIComponent(n);
    return q && q.paused
      ? h('button', { class: 'btn btn-sm', type: 'button', dataset: { action: 'resume' }, on: { click: () => confirmAction({
          title: 'Resume queue ' + n + '?', body: 'Workers serving ' + n + ' claim its ' + fmtInt(q.ready) + ' ready jobs at once.',
          ok: 'Resume', run: () => api('/api/queues/' + enc + '/resume', { method: 'POST' }), done: () => 'Queue ' + n + ' resumed' }) } }, 'Resume')
      : h('button', { class: 'btn btn-sm', type: 'button', dataset: { action: 'pause' }, on: { click: () => confirmAction({
          title: 'Pause queue ' + n + '?', body: 'No worker claims its jobs until it is resumed. Jobs still enqueue (cron ticks, fan-outs); running jobs finish.',
          danger: true, ok: 'Pause', run: () => api('/api/queues/' + enc + '/pause', { method: 'POST' }), done: () => 'Queue ' + n + ' paused' }) } }, '❚❚ Pause');
  };
  const queueRows = names.map(n => {
    const q = byName.get(n);
    return [h('span', null, h('a', { href: href('/jobs', { queue: n }) }, n), ' ',
        q && q.paused ? h('span', { title: 'paused ' + absTime(q.paused_at) + (q.changed_by ? ' by ' + q.changed_by : '') }, badge('paused', 'b-warn')) : null),
      fmtInt(q ? q.ready : 0), fmtInt(q ? q.running : 0), q && q.ready ? ms(q.oldest_ready_age_ms) : '–',
      fmtInt(workers.workers.filter(w => (w.queues || []).includes(n)).length), queueAction(n, q)];
  });
  const paused = queues.queues.filter(q => q.paused).length;
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
      card('Queues', names.length + ' known' + (paused ? ' · ' + paused + ' paused' : ''), table([{ label: 'Queue' }, { label: 'Ready', num: true },
        { label: 'Running', num: true }, { label: 'Oldest ready', num: true }, { label: 'Workers', num: true }, { label: '' }], queueRows,
        { id: 'queues', empty: 'No queue has jobs.', data: i => ({ queue: names[i], paused: !!(byName.get(names[i]) || {}).paused }) }), { flush: true }),
      card('Oldest ready job', 'per queue', queueChart(qseries, 'oldest_ready_ms', 'queue-age', v => ms(v)))),
    card('Workers', workers.workers.length + ' connected', table([{ label: 'Worker' }, { label: 'Host' }, { label: 'Queues' },
      { label: 'Busy slots' }, { label: 'Last seen' }], workerRows,
      { id: 'workers', empty: 'No worker is connected.', data: i => ({ workerId: workers.workers[i].worker_id }) }), { flush: true }),
    card('Limits', limits.limits.length + ' cluster-wide · kept by every claim', table([{ label: 'Limit' }, { label: 'Applies to' },
      { label: 'Budget' }, { label: 'Running', num: true }, { label: 'Ready', num: true },
      { label: 'Held back /min', num: true }, { label: 'Busiest partitions' }],
      limits.limits.map(l => [h('b', null, l.name),
        'queue ' + (l.queue || '*') + ' · kind ' + (l.kind || '*') + (l.partition_by ? ' · per ' + l.partition_by : ''),
        [l.concurrency !== null ? l.concurrency + ' at once' : null, l.rate].filter(Boolean).join(', '),
        fmtInt(l.running), h('a', { href: href('/jobs', Object.assign({ state: 'available,retryable' }, l.kind ? { kind: l.kind } : {}, l.queue ? { queue: l.queue } : {})) }, fmtInt(l.ready)),
        (rate => h('span', { title: fmtInt(l.held_back) + ' held back since the limit was made' },
          rate === null ? '–' : fmtInt(Math.round(rate))))(heldBackPerMinute(l)),
        h('div', { class: 'partitions' }, l.partitions.slice(0, 5).map(p => {
          const cap = l.concurrency || 0;
          return h('div', { class: 'slots', title: p.partition + ': ' + p.running + ' running, ' + p.started_in_window + ' started in the window' },
            h('span', { class: 'sub' }, p.partition || '(none)'),
            cap ? h('div', { class: 'bar' }, h('span', { style: { width: Math.min(100, 100 * p.running / cap) + '%' } })) : null,
            p.running + (cap ? ' / ' + cap : ' running') + (l.rate ? ' · ' + p.started_in_window + ' started' : ''));
        }), l.partitions_in_use > 5 ? h('span', { class: 'sub' }, '+' + (l.partitions_in_use - 5) + ' more') : null)]),
      { id: 'limits', empty: 'No limits. jobctl limit set NAME --kind K --concurrency N --rate COUNT/WINDOW, or limits: in the schedule file.',
        data: i => ({ limit: limits.limits[i].name }) }), { flush: true }));
}

