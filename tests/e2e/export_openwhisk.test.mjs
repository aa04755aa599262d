// `wisp export openwhisk` (docs/export.md): the bundle is a wskdeploy
// manifest, a README, and one self-contained zip per action. Each exported
// `exec` runs under wisp's own actionloop runner, as OpenWhisk's proxy would
// run it, and the exported manifest deployed back into wisp (with the
// questions in wisp's CouchDB API, reached over HTTP as on OpenWhisk) fills
// the store with exactly the searched questions, each posted to Slack once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Nano from 'nano';
import openwhisk from 'openwhisk';
import { expectPipelineConverged } from './pipeline_check.mjs';
import { ADMIN, eventually, sanitizedActionsSkip, startWisp, wispBin } from './wisp_server.mjs';

const run = promisify(execFile);
const GUEST = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:' + 'e2eExportKey'.padEnd(64, 'k');
const ACTIONS = ['collector', 'invoker', 'storer', 'notifier'];
const RULES = ['so-serverless-or-rule', 'so-couchdb-or-rule', 'so-nodejs-openwhisk-and-rule'];
const CRON = '*/5 * * * * *';

let dir;
let bundle;
let server;
let ow;
const sims = [];

// Starts `wisp sim KIND` on a free port; resolves with the line it printed.
async function startSim(kind, args = []) {
  const child = spawn(wispBin, ['sim', kind, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  sims.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`wisp sim ${kind} did not start: ${out}`)), 20000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on('exit', (code) => reject(new Error(`wisp sim ${kind} exited with ${code}: ${out}`)));
  });
}

before(async () => {
  if (sanitizedActionsSkip) return;  // every test here runs the exported binary as an action
  dir = mkdtempSync(path.join(tmpdir(), 'wisp-export-'));
  bundle = path.join(dir, 'bundle');
  await run(wispBin, ['export', 'openwhisk', '-o', bundle, '--cron', CRON]);
  // Three searches every few seconds, and a handler activation per
  // question. Each exported invoker waits on up to 8 blocking invokes
  // through the REST API; a waiting invoke holds no worker thread, so the
  // default workers serve the storers' calls to the CouchDB API meanwhile.
  server = await startWisp({
    extraArgs: ['--guest-key', GUEST, '--invocations-per-minute', '100000', '--fires-per-minute', '100000',
      '--concurrent-invocations', '1000'],
  });
  ow = openwhisk({ apihost: `http://127.0.0.1:${server.ports.api}`, api_key: GUEST });
});

after(async () => {
  for (const child of sims) {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the bundle holds a wskdeploy manifest, a README and a self-contained zip per action', { skip: sanitizedActionsSkip }, async () => {
  const manifest = readFileSync(path.join(bundle, 'manifest.yaml'), 'utf8');
  for (const name of ACTIONS) {
    assert.match(manifest, new RegExp(`${name}:\\n\\s+function: actions/${name}\\.zip\\n\\s+native: true`));
    const zip = readFileSync(path.join(bundle, 'actions', `${name}.zip`));
    // Entry names stand in the zip's directory as plain text.
    for (const entry of ['exec', 'bin/wisp', 'lib/ld-linux-x86-64.so.2', 'lib/libc.so.6', 'lib/libcurl.so.4']) {
      assert.ok(zip.includes(Buffer.from(entry)), `${name}.zip holds ${entry}`);
    }
    assert.ok(zip.length < 36 * 1024 * 1024, `${name}.zip (${zip.length} bytes) fits OpenWhisk's 48 MB code limit in base64`);
  }
  assert.match(manifest, /provide-api-key: true/);
  assert.match(manifest, /socron:\n\s+actions: collector, invoker/);
  assert.match(manifest, /qhandler:\n\s+actions: storer, notifier/);
  assert.equal(manifest.match(/feed: \/whisk\.system\/alarms\/alarm/g).length, 3);
  assert.equal(manifest.match(/cron: "\*\/5 \* \* \* \* \*"/g).length, 3);
  assert.match(manifest, /store_url: \$\{SO_STORE_URL\}/);

  const readme = readFileSync(path.join(bundle, 'README.md'), 'utf8');
  assert.match(readme, /wskdeploy -m manifest\.yaml/);
  assert.match(readme, /wsk action update stackoverflow\/invoker actions\/invoker\.zip --native -t 300000 -m 256 -a provide-api-key true/);
  assert.match(readme, /wsk action update stackoverflow\/socron --sequence stackoverflow\/collector,stackoverflow\/invoker/);
  assert.match(readme, /wsk rule create so-couchdb-or-rule so-couchdb-or stackoverflow\/socron/);
});

test('deployed back into wisp, each exported exec serves activations and the pipeline converges', { skip: sanitizedActionsSkip }, async () => {
  const stackexchange = (await startSim('stackexchange', ['--event-interval', '100000']))
    .match(/listening on (\S+)/)[1];
  const webhook = (await startSim('slack')).match(/webhook: ([^,]+),/)[1];
  const deployed = await run(wispBin, ['deploy', '-m', path.join(bundle, 'manifest.yaml')], {
    env: {
      ...process.env,
      WSK_CONFIG_FILE: path.join(dir, 'no-wskprops'),
      WHISK_APIHOST: `http://127.0.0.1:${server.ports.api}`,
      WHISK_AUTH: GUEST,
      SO_API_URL: stackexchange,
      SLACK_URL: webhook,
      SO_STORE_URL: server.couchUrl,
      SO_STORE_USERNAME: ADMIN.name,
      SO_STORE_PASSWORD: ADMIN.password,
    },
  });
  assert.match(deployed.stdout, /stackoverflow\/notifier/);
  // The actions one by one first, with the alarms' rules off.
  for (const name of RULES) await ow.rules.disable({ name });

  // Each action is a native action whose exec answers on fd 3, with its
  // log lines in the activation record.
  for (const name of ACTIONS) {
    const action = await ow.actions.get({ name: `stackoverflow/${name}`, code: false });
    assert.equal(action.exec.kind, 'native');
    assert.equal(action.exec.binary, true);
  }
  const skipped = await ow.actions.invoke({
    name: 'stackoverflow/notifier', blocking: true, params: { id: '1', status: 'updated', notify: false },
  });
  assert.equal(skipped.response.status, 'success');
  assert.deepEqual(skipped.response.result, { id: '1', status: 'updated', notified: false, reason: 'not a new question' });
  const refused = await ow.actions.invoke({ name: 'stackoverflow/storer', blocking: true, params: { question: 'nope' } })
    .then(() => assert.fail('a storer without a question must fail'), (e) => e.error);
  assert.equal(refused.response.status, 'application error');
  assert.match(refused.response.result.error, /storer: the input needs `question`/);
  // As on OpenWhisk, a blocking invoke answers before the logs are
  // collected; the record has them soon after.
  await eventually(async () => {
    const { logs } = await ow.activations.logs({ name: refused.activationId });
    assert.ok(logs.some((line) => line.includes('stderr') && line.includes('the input needs `question`')),
      `the error is in the activation's log: ${JSON.stringify(logs)}`);
  }, 10000);

  for (const name of RULES) await ow.rules.enable({ name });
  // The alarms fire every 5 s: the exported collector reads the
  // simulator, the exported invoker starts qhandler through the REST API,
  // and the exported storer and notifier write over the CouchDB API.
  await expectPipelineConverged({
    stackexchange: stackexchange.replace(/\/2\.3$/, ''),
    slack: webhook.replace(/\/services\/.*$/, ''),
    questions: Nano(server.authUrl).use('questions'),
    timeoutMs: 120000,
  });

  // The handlers ran as activations of the exported sequence, started by
  // the exported invoker through the REST API.
  const handlers = await ow.activations.list({ name: 'stackoverflow/qhandler', limit: 5 });
  assert.ok(handlers.length > 0, 'qhandler activations are recorded');
});
