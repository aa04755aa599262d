// The operations page (issue H), for server admins: charts of what
// /ops/metrics reports, sampled every few seconds and kept here (the server
// keeps no history), the alerts from /ops/alerts, the recent failed
// activations with their logs from /ops/activations, the replication jobs
// from /ops/replications, and each action's cost
// in GB-seconds. Charts are uPlot (web/vendor/, loaded on first use).
// Metric names are those of the observability contract (docs/dashboard.md).

const MAX_SAMPLES = 360;   // at 5 s, half an hour of history

// --- Prometheus text ---------------------------------------------------------

// [{name, labels, value}] from the text exposition format (0.0.4).
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l;
    while ((l = re.exec(m[3] || '')) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    const value = Number(m[4]);
    if (!Number.isNaN(value)) out.push({ name: m[1], labels, value });
  }
  return out;
}

function sum(sample, name, where = () => true) {
  let total = 0;
  let seen = false;
  for (const s of sample.metrics) {
    if (s.name === name && where(s.labels)) {
      total += s.value;
      seen = true;
    }
  }
  return seen ? total : null;
}

function byLabel(sample, name, label) {
  const out = new Map();
  for (const s of sample.metrics) {
    if (s.name === name) out.set(s.labels[label] || '', (out.get(s.labels[label] || '') || 0) + s.value);
  }
  return out;
}

// The per-second rate of a counter between two samples (null when either
// lacks it or it went down: a restart).
function rate(a, b, name, where) {
  const x = sum(a, name, where);
  const y = sum(b, name, where);
  if (x === null || y === null || y < x) return null;
  return (y - x) / Math.max(b.t - a.t, 1e-3);
}

// The q-quantile of the observations a histogram gained between two samples,
// interpolated within its bucket as Prometheus' histogram_quantile does.
function quantile(a, b, name, q) {
  const buckets = new Map();
  for (const [sample, sign] of [[b, 1], [a, -1]]) {
    for (const s of sample.metrics) {
      if (s.name !== `${name}_bucket`) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) || 0) + sign * s.value);
    }
  }
  const bounds = [...buckets.keys()].sort((x, y) => x - y);
  const total = bounds.length ? buckets.get(bounds[bounds.length - 1]) : 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const count = buckets.get(le);
    if (count >= rank) {
      if (le === Infinity) return lower;
      return lower + (le - lower) * ((rank - below) / Math.max(count - below, 1e-9));
    }
    lower = le;
    below = count;
  }
  return lower;
}

const notSuccess = (l) => l.status !== 'success';

// Each chart: its series, and how one point of each comes from two samples.
const CHARTS = [
  {
    id: 'invocations', title: 'Invocations and errors per second', needs: 'wisp_activations_total',
    series: [
      { label: 'invocations/s', stroke: '#2563eb', point: (a, b) => rate(a, b, 'wisp_activations_total') },
      { label: 'errors/s', stroke: '#dc2626', point: (a, b) => rate(a, b, 'wisp_activations_total', notSuccess) },
    ],
  },
  {
    id: 'latency', title: 'Activation latency (seconds)', needs: 'wisp_activation_duration_seconds_bucket',
    series: [50, 95, 99].map((p, i) => ({
      label: `p${p}`, stroke: ['#16a34a', '#ca8a04', '#dc2626'][i],
      point: (a, b) => quantile(a, b, 'wisp_activation_duration_seconds', p / 100),
    })),
  },
  {
    id: 'cold', title: 'Cold-start ratio', needs: 'wisp_activation_cold_starts_total',
    series: [{
      label: 'cold starts / invocations', stroke: '#7c3aed',
      point: (a, b) => {
        const cold = rate(a, b, 'wisp_activation_cold_starts_total');
        const all = rate(a, b, 'wisp_activations_total');
        return cold === null || !all ? null : cold / all;
      },
    }],
  },
  {
    id: 'http', title: 'HTTP requests per second', needs: 'wisp_http_requests_total',
    series: [
      { label: 'requests/s', stroke: '#0891b2', point: (a, b) => rate(a, b, 'wisp_http_requests_total') },
      {
        label: '5xx/s', stroke: '#dc2626',
        point: (a, b) => rate(a, b, 'wisp_http_requests_total', (l) => String(l.status).startsWith('5')),
      },
    ],
  },
  {
    id: 'pipeline', title: 'Pipeline: questions and notifications (totals)', needs: 'wisp_so_questions_fetched_total',
    series: [
      { label: 'fetched', stroke: '#2563eb', point: (a, b) => sum(b, 'wisp_so_questions_fetched_total') },
      { label: 'new', stroke: '#16a34a', point: (a, b) => sum(b, 'wisp_so_questions_stored_total', (l) => l.result === 'new') },
      { label: 'updated', stroke: '#ca8a04', point: (a, b) => sum(b, 'wisp_so_questions_stored_total', (l) => l.result === 'updated') },
      { label: 'skipped', stroke: '#6b7280', point: (a, b) => sum(b, 'wisp_so_questions_stored_total', (l) => l.result === 'skipped') },
      { label: 'Slack sent', stroke: '#0891b2', point: (a, b) => sum(b, 'wisp_slack_notifications_total', (l) => l.result === 'sent') },
      { label: 'Slack failed', stroke: '#dc2626', point: (a, b) => sum(b, 'wisp_slack_notifications_total', (l) => l.result === 'failed') },
    ],
  },
  {
    id: 'quota', title: 'Stack Exchange quota', needs: 'wisp_stackexchange_quota_remaining',
    series: [
      { label: 'remaining', stroke: '#16a34a', point: (a, b) => sum(b, 'wisp_stackexchange_quota_remaining') },
      { label: 'max', stroke: '#6b7280', point: (a, b) => sum(b, 'wisp_stackexchange_quota_max') },
    ],
  },
];

// --- the page ----------------------------------------------------------------

let uplotLoading = null;
function loadUplot() {
  if (window.uPlot) return Promise.resolve();
  if (!uplotLoading) {
    uplotLoading = new Promise((resolve, reject) => {
      const css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = 'vendor/uPlot.min.css';
      document.head.append(css);
      const script = document.createElement('script');
      script.src = 'vendor/uPlot.iife.min.js';
      script.onload = resolve;
      script.onerror = () => { uplotLoading = null; reject(new Error('Cannot load the chart library.')); };
      document.head.append(script);
    });
  }
  return uplotLoading;
}

async function getText(path) {
  const res = await fetch(path, { credentials: 'include' });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    const error = new Error(body.reason || `The server answered ${res.status}.`);
    error.status = res.status;
    throw error;
  }
  return res.text();
}

function fmt(n, digits = 2) {
  if (n === null || n === undefined) return '–';
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString() : Number(n.toFixed(digits)).toString();
}

// Shows the page in `main` with the DOM helper `h`; returns a function that
// stops its sampling. `every`: milliseconds between samples.
export function showOps(main, h, { every = 5000 } = {}) {
  let stopped = false;
  let timer = null;
  const samples = [];
  const status = h('p', { class: 'muted', id: 'ops-status', role: 'status' }, 'Loading metrics…');
  const alertsList = h('ul', { class: 'ops-alerts', id: 'ops-alerts' });
  const failedList = h('div', { id: 'ops-failed' });
  const costBody = h('tbody');
  const replicationBody = h('tbody');
  const charts = CHARTS.map((spec) => {
    const plot = h('div', { class: 'ops-plot' });
    const note = h('p', { class: 'muted ops-note' }, '');
    const section = h('section', { class: 'card ops-chart', 'data-chart': spec.id, 'data-points': '0' },
      h('h2', {}, spec.title), plot, note);
    return { spec, section, plot, note, chart: null };
  });

  main.replaceChildren(h('div', { class: 'ops' },
    h('h1', {}, 'Operations'),
    status,
    h('section', { class: 'card' }, h('h2', {}, 'Alerts'), alertsList),
    h('div', { class: 'ops-grid' }, ...charts.map((c) => c.section)),
    h('section', { class: 'card' }, h('h2', {}, 'Cost by action (GB-seconds)'),
      h('table', { class: 'ops-cost', id: 'ops-cost' },
        h('thead', {}, h('tr', {}, h('th', {}, 'action'), h('th', {}, 'GB-s'))), costBody)),
    h('section', { class: 'card' }, h('h2', {}, 'Replications'),
      h('table', { class: 'ops-replications', id: 'ops-replications' },
        h('thead', {}, h('tr', {}, ...['job', 'state', 'checkpoint', 'written', 'pending', 'last error'].map((t) => h('th', {}, t)))),
        replicationBody)),
    h('section', { class: 'card' }, h('h2', {}, 'Recent failed activations'), failedList)));

  function draw() {
    const xs = samples.slice(1).map((s) => s.t);
    for (const c of charts) {
      const present = samples.some((s) => s.metrics.some((m) => m.name === c.spec.needs));
      const columns = c.spec.series.map((series) => samples.slice(1).map((b, i) => series.point(samples[i], b)));
      const points = columns.reduce((n, col) => n + col.filter((v) => v !== null && v !== undefined).length, 0);
      c.section.dataset.points = String(points);
      c.note.textContent = present ? (xs.length ? '' : 'Waiting for a second sample…')
        : `No data: this wisp does not report ${c.spec.needs} yet.`;
      if (!window.uPlot) continue;
      const data = [xs, ...columns];
      if (!c.chart) {
        const width = Math.max(280, c.plot.clientWidth || 480);
        c.chart = new window.uPlot({
          width, height: 200,
          series: [{}, ...c.spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: false }))],
          axes: [{}, { size: 60 }],
          scales: { x: { time: true } },
        }, data, c.plot);
      } else {
        c.chart.setData(data);
      }
    }
    const last = samples[samples.length - 1];
    if (last) {
      const cost = [...byLabel(last, 'wisp_action_gigabyte_seconds_total', 'action')].sort((a, b) => b[1] - a[1]);
      costBody.replaceChildren(...(cost.length ? cost.map(([action, gbs]) => h('tr', {}, h('td', {}, action), h('td', {}, fmt(gbs, 4))))
        : [h('tr', {}, h('td', { colspan: '2', class: 'muted' }, 'No cost figures yet (wisp_action_gigabyte_seconds_total).'))]));
    }
  }

  async function refreshLists() {
    try {
      const { alerts = [] } = JSON.parse(await getText('ops/alerts'));
      alertsList.replaceChildren(...(alerts.length ? alerts.map((a) => h('li', { class: `alert ${a.state}`, 'data-alert': a.name },
        h('strong', {}, a.name), ` ${a.state === 'firing' ? 'FIRING' : 'ok'}`,
        a.summary ? ` – ${a.summary}` : '',
        a.value !== undefined ? ` (value ${fmt(a.value)}, threshold ${fmt(a.threshold)})` : '',
        a.since ? h('span', { class: 'muted' }, ` since ${a.since}`) : ''))
        : [h('li', { class: 'muted' }, 'No alerts are defined or firing.')]));
      const { activations = [] } = JSON.parse(await getText('ops/activations?failed=true&limit=20'));
      failedList.replaceChildren(...(activations.length ? activations.map((a) => h('details', { class: 'ops-activation', 'data-activation': a.activationId },
        h('summary', {}, h('strong', {}, `${a.namespace}/${a.name}`), ` ${(a.response && a.response.status) || ''} `,
          h('span', { class: 'muted' }, new Date(a.start).toLocaleString()), ' ',
          h('code', {}, a.activationId)),
        h('pre', { class: 'ops-result' }, JSON.stringify(a.response && a.response.result, null, 2)),
        h('pre', { class: 'ops-logs' }, (a.logs || []).join('\n') || '(no logs)')))
        : [h('p', { class: 'muted' }, 'No failed activations.')]));
      const { docs = [] } = JSON.parse(await getText('ops/replications'));
      const cell = (v) => (v === null || v === undefined ? '–' : String(v));
      replicationBody.replaceChildren(...(docs.length ? docs.map((d) => {
        const info = d.info || {};
        return h('tr', { 'data-replication': d.doc_id, class: `replication ${d.state}` },
          h('td', {}, d.doc_id), h('td', {}, d.state), h('td', {}, cell(info.checkpointed_source_seq)),
          h('td', {}, cell(info.docs_written)), h('td', {}, cell(info.changes_pending)), h('td', {}, cell(info.error)));
      }) : [h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No replications (see docs/replication.md).'))]));
    } catch (e) {
      status.textContent = e.message;
    }
  }

  async function sample() {
    if (stopped) return;
    try {
      const text = await getText('ops/metrics');
      samples.push({ t: Date.now() / 1000, metrics: parseMetrics(text) });
      if (samples.length > MAX_SAMPLES) samples.shift();
      status.textContent = `Sampling /metrics every ${every / 1000} s; ${samples.length} samples kept in this page.`;
      await loadUplot().catch((e) => { status.textContent = e.message; });
      if (samples.length % 6 === 1) refreshLists();
      draw();
    } catch (e) {
      status.textContent = e.status === 403 ? 'The operations page is for server admins.' : e.message;
    }
    if (!stopped) timer = setTimeout(sample, every);
  }
  sample();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
