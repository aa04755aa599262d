// The operations page (issue H part 4) in chromium against the real binary:
// invocations are driven through the OpenWhisk API, then a server admin
// opens #/ops and the charts fill from /ops/metrics samples; the failed
// activations show with their logs; /ops/* refuses everyone but the admin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startWisp, ADMIN, wispBin } from './wisp_server.mjs';
import { launchBrowser } from './browser.mjs';

const run = promisify(execFile);
const GUEST = '0b4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f80:' + 'k'.repeat(64);
const shots = process.env.WISP_SCREENSHOTS;

let server;
let browser;
let app;

async function whisk(method, path, body) {
  const res = await fetch(`${app}/api/v1/namespaces/guest/${path}`, {
    method,
    headers: { authorization: 'Basic ' + Buffer.from(GUEST).toString('base64'), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function action(name, code) {
  const res = await whisk('PUT', `actions/${name}?overwrite=true`, { exec: { kind: 'nodejs:20', code } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

before(async () => {
  server = await startWisp({ extraArgs: ['--guest-key', GUEST] });
  app = `http://127.0.0.1:${server.ports.api}`;
  await run(wispBin, ['user', 'add', 'ada', '--password', 'ada-password-1', '--url', server.couchUrl,
    '--admin', `${ADMIN.name}:${ADMIN.password}`]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(name, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${app}/`);
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#qlist');
  return { context, page, errors };
}

test('/ops/* answers the server admin only, in CouchDB\'s shape', async () => {
  const anonymous = await fetch(`${app}/ops/metrics`);
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).error, 'unauthorized');
  const ada = await fetch(`${app}/ops/alerts`, {
    headers: { authorization: 'Basic ' + Buffer.from('ada:ada-password-1').toString('base64') },
  });
  assert.equal(ada.status, 401);
  assert.deepEqual(await ada.json(), { error: 'unauthorized', reason: 'You are not a server admin.' });
  const admin = { authorization: 'Basic ' + Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64') };
  const metrics = await fetch(`${app}/ops/metrics`, { headers: admin });
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /^wisp_http_requests_total\{/m);
  const alerts = await fetch(`${app}/ops/alerts`, { headers: admin });
  assert.ok(Array.isArray((await alerts.json()).alerts));
});

test('an advocate sees no operations link and the page refuses them', async () => {
  const { page, context } = await signIn('ada', 'ada-password-1');
  assert.equal(await page.$('.ops-link'), null);
  await page.goto(`${app}/#/ops`);
  await page.waitForSelector('text=The operations page is for server admins.');
  await context.close();
});

test('the operations page charts invocations and lists failed activations with their logs', async () => {
  await action('fine', 'function main(p) { return { ok: true, n: p.n }; }');
  await action('broken', 'function main() { console.log("about to fail"); return { error: "the broken action failed" }; }');

  const { page, context, errors } = await signIn(ADMIN.name, ADMIN.password);
  await page.click('.ops-link');
  await page.waitForSelector('[data-chart="http"]');
  await page.goto(`${app}/#/ops?every=300`);
  await page.waitForSelector('#ops-status >> text=/samples kept/');

  // Invocations while the page samples, so that rates have something to show.
  for (let i = 0; i < 6; i++) {
    const fine = await whisk('POST', 'actions/fine?blocking=true', { n: i });
    assert.equal(fine.status, 200, JSON.stringify(fine.body));
    const broken = await whisk('POST', 'actions/broken?blocking=true', {});
    assert.equal(broken.status, 502, JSON.stringify(broken.body));
  }

  await page.waitForFunction(() => Number(document.querySelector('[data-chart="http"]').dataset.points) > 0,
    null, { timeout: 20000 });
  const canvas = await page.$('[data-chart="http"] canvas');
  assert.ok(canvas, 'uPlot drew the HTTP chart');
  const box = await canvas.boundingBox();
  assert.ok(box.width > 200 && box.height > 100, JSON.stringify(box));

  // What the server reports decides what must be charted: once
  // wisp_activations_total is there, the invocation chart must show it.
  const metricsText = await (await fetch(`${app}/ops/metrics`, {
    headers: { authorization: 'Basic ' + Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64') },
  })).text();
  if (/^wisp_activations_total\{/m.test(metricsText)) {
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="invocations"]').dataset.points) > 0,
      null, { timeout: 20000 });
  } else {
    assert.match(await page.textContent('[data-chart="invocations"]'), /does not report wisp_activations_total/);
  }

  const failed = await page.waitForSelector('#ops-failed .ops-activation', { timeout: 20000 });
  assert.match(await failed.textContent(), /guest\/broken/);
  await failed.click();
  assert.match(await page.textContent('#ops-failed .ops-activation .ops-logs'), /about to fail/);
  assert.match(await page.textContent('#ops-failed .ops-activation .ops-result'), /the broken action failed/);
  assert.doesNotMatch(await page.textContent('#ops-failed'), /guest\/fine/);
  await page.waitForSelector('#ops-alerts li');
  // Each action's cost, from wisp_action_gigabyte_seconds_total.
  await page.waitForFunction(() => [...document.querySelectorAll('#ops-cost tbody tr')]
    .some((row) => row.cells.length === 2 && row.cells[0].textContent === 'guest/fine'), null, { timeout: 20000 });
  // A continuous replication shows in the replications table with its state.
  const admin = { Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}` };
  assert.equal((await fetch(`${server.couchUrl}/ops_src`, { method: 'PUT', headers: admin })).status, 201);
  const job = await fetch(`${server.couchUrl}/_replicator/ops-copy`, {
    method: 'PUT', headers: { ...admin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ source: 'ops_src', target: 'ops_dst', continuous: true, create_target: true }),
  });
  assert.equal(job.status, 201);
  await page.waitForSelector('#ops-replications tr[data-replication="ops-copy"].running', { timeout: 20000 });
  if (shots) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${shots}/ops.png` });
  }
  assert.deepEqual(errors, []);
  await context.close();
});
