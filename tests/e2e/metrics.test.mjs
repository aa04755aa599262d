// /metrics of a real wisp after a small workload: `promtool check metrics`
// (Debian's prometheus package) finds nothing to report, and the activation
// counters agree with the activation records the API lists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import openwhisk from 'openwhisk';
import { ADMIN, startWisp } from './wisp_server.mjs';

const GUEST = '6f2d0b8c-4e3a-4d7f-9bac-2d3e4f5a6b7c:' + 'm'.repeat(64);

let server;
let ow;
let api;

// Waits for `check` to return a truthy value, up to `ms`.
async function eventually(check, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The page is the CouchDB server admin's (docs/security.md).
async function metricsText() {
  const res = await fetch(`${api}/metrics`, {
    headers: { Authorization: 'Basic ' + Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64') },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/plain/);
  return res.text();
}

// {name, labels: {..}, value} for each sample line.
function parseSamples(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = {};
    for (const [, k, v] of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

// A record's response as the API renders it -> the metric's status label.
const STATUS = {
  success: 'success', 'application error': 'application_error',
  'action developer error': 'developer_error', 'whisk internal error': 'whisk_error',
};

before(async () => {
  server = await startWisp({ extraArgs: ['--guest-key', GUEST] });
  api = `http://127.0.0.1:${server.ports.api}`;
  ow = openwhisk({ apihost: api, api_key: GUEST, ignore_certs: true });
  const echo = '#!/bin/sh\nwhile read -r line; do printf \'{"ok":true}\\n\' >&3; done\n';
  const fail = '#!/bin/sh\nwhile read -r line; do printf \'{"error":"told to fail"}\\n\' >&3; done\n';
  await ow.actions.create({ name: 'echo', action: { exec: { kind: 'native', code: echo } } });
  await ow.actions.create({ name: 'fail', action: { exec: { kind: 'native', code: fail } } });
  await ow.actions.create({
    name: 'both', action: { exec: { kind: 'sequence', components: ['/_/echo', '/_/echo'] } },
  });
  await ow.triggers.create({ name: 'ping' });
  await ow.rules.create({ name: 'ping-echo', action: '/_/echo', trigger: '/_/ping' });

  // The workload: 3 + 2 blocking invokes, 2 sequences (3 records each),
  // 2 fires (a trigger record and an echo each), and some store traffic.
  for (let i = 0; i < 3; i++) await ow.actions.invoke({ name: 'echo', blocking: true });
  for (let i = 0; i < 2; i++) await ow.actions.invoke({ name: 'fail', blocking: true }).catch(() => {});
  for (let i = 0; i < 2; i++) await ow.actions.invoke({ name: 'both', blocking: true });
  for (let i = 0; i < 2; i++) await ow.triggers.invoke({ name: 'ping' });
  const auth = { Authorization: 'Basic ' + Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64') };
  await fetch(`${server.couchUrl}/metricsdb`, { method: 'PUT', headers: auth });
  await fetch(`${server.couchUrl}/metricsdb/a`, {
    method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"x":1}',
  });
  await eventually(async () => (await ow.activations.list({ limit: 200 })).length >= 15);
});

after(async () => {
  await server?.stop();
});

test('promtool check metrics reports no problem', async () => {
  const text = await metricsText();
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(run.error, undefined, `promtool did not run: ${run.error}`);
  assert.equal(run.status, 0, `promtool: ${run.stdout}${run.stderr}`);
  assert.equal((run.stdout + run.stderr).trim(), '', `promtool reported: ${run.stdout}${run.stderr}`);
});

test('every metric family of the contract is served', async () => {
  const text = await metricsText();
  for (const name of [
    'wisp_activations_total', 'wisp_activation_duration_seconds', 'wisp_activation_wait_seconds',
    'wisp_activation_cold_starts_total', 'wisp_activation_init_seconds', 'wisp_activations_in_flight',
    'wisp_throttled_total', 'wisp_action_gigabyte_seconds_total', 'wisp_http_requests_total',
    'wisp_http_request_duration_seconds', 'wisp_store_operations_total', 'wisp_store_operation_duration_seconds',
    'wisp_store_database_size_bytes', 'wisp_store_documents', 'wisp_store_changes_listeners',
    'wisp_so_questions_fetched_total', 'wisp_so_questions_stored_total', 'wisp_slack_notifications_total',
    'wisp_stackexchange_quota_remaining', 'wisp_stackexchange_quota_max', 'wisp_stackexchange_backoff_seconds',
    'wisp_so_last_successful_poll_timestamp_seconds', 'wisp_alert_active',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is missing`);
  }
  const samples = parseSamples(text);
  const docs = samples.find((s) => s.name === 'wisp_store_documents' && s.labels.db === 'metricsdb');
  assert.equal(docs?.value, 1, 'wisp_store_documents{db="metricsdb"} counts the one document');
  const writes = samples.find((s) => s.name === 'wisp_store_operations_total' && s.labels.op === 'bulk');
  assert.ok(writes && writes.value >= 1, 'store writes are counted');
});

// {"action status": records} from the activation records the API lists.
async function recordCounts() {
  const records = await ow.activations.list({ limit: 200, docs: true });
  const counts = {};
  for (const r of records) {
    const path = (r.annotations || []).find((a) => a.key === 'path')?.value ?? `${r.namespace}/${r.name}`;
    const key = `${path} ${STATUS[r.response.status] ?? `unknown(${r.response.status})`}`;
    counts[key] = (counts[key] || 0) + 1;
  }
  return counts;
}

// The same from wisp_activations_total (summed over kind, zeros left out).
async function metricCounts() {
  const counts = {};
  for (const s of parseSamples(await metricsText())) {
    if (s.name !== 'wisp_activations_total' || s.value === 0) continue;
    const key = `${s.labels.action} ${s.labels.status}`;
    counts[key] = (counts[key] || 0) + s.value;
  }
  return counts;
}

const sorted = (o) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));

test('wisp_activations_total agrees with the activation records', async () => {
  // A record is counted just after it is stored: allow that moment.
  await eventually(async () => sorted(await recordCounts()) === sorted(await metricCounts()), 5000).catch(() => {});
  const expected = await recordCounts();
  assert.deepEqual(sorted(await metricCounts()), sorted(expected));
  assert.equal(expected['guest/fail application_error'], 2);
  assert.equal(expected['guest/ping success'], 2);
  assert.equal(expected['guest/echo success'], 3 + 2 * 2 + 2);

  // Durations and GB-seconds: one observation per primitive record.
  const samples = parseSamples(await metricsText());
  const echoCount = samples.find((s) => s.name === 'wisp_activation_duration_seconds_count' &&
                                        s.labels.action === 'guest/echo');
  assert.equal(echoCount?.value, 3 + 2 * 2 + 2, 'every echo run is timed');
  const cold = samples.find((s) => s.name === 'wisp_activation_cold_starts_total' && s.labels.action === 'guest/echo');
  assert.ok(cold && cold.value >= 1, 'the first echo was a cold start');
  const gb = samples.find((s) => s.name === 'wisp_action_gigabyte_seconds_total' && s.labels.action === 'guest/echo');
  assert.ok(gb && gb.value >= 0, 'GB-seconds are counted per action');
});

test('GET /api/v1/alerts lists the shipped rules for any namespace key, 401 without one', async () => {
  const anonymous = await fetch(`${api}/api/v1/alerts`);
  assert.equal(anonymous.status, 401);
  const res = await fetch(`${api}/api/v1/alerts`, {
    headers: { Authorization: 'Basic ' + Buffer.from(GUEST).toString('base64') },
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  const names = body.alerts.map((a) => a.name).sort();
  assert.deepEqual(names, ['ActivationErrorRate', 'NoSuccessfulPoll', 'SlackDeliveriesFailing',
                           'StackExchangeQuotaLow']);
  for (const a of body.alerts) {
    assert.ok(['firing', 'ok'].includes(a.state));
    for (const field of ['since', 'value', 'threshold', 'summary']) assert.ok(field in a, `${field} in ${a.name}`);
  }
});
