// An external store (`--store-url`, docs/scaling.md "External CouchDB"):
// `wisp demo` with pouchdb-server as the store of `questions` and `events`,
// signed in with a cookie session. The pipeline's storer and notifier write
// there, and the remote ends with exactly the questions the simulated Stack
// Exchange holds on the searched tags, each notified once; the embedded
// `questions` stays empty. The dashboard's `/db/questions` reaches the
// remote through wisp, for wisp's own users only, and PouchDB syncs through
// it both ways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Nano from 'nano';
import PouchDB from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { wispBin } from './wisp_server.mjs';
import { startPouchServer } from './pouch_server.mjs';
import { expectPipelineConverged } from './pipeline_check.mjs';

PouchDB.plugin(MemoryAdapter);

const STORE_ADMIN = { name: 'wisp-service', password: 'remote-s3cret' };
const USER = { name: 'ada', password: 'ada-pw' };

let remote;
let demo;
let dir;
let banner = '';

const withCredentials = (url, who) => url.replace('://', `://${encodeURIComponent(who.name)}:${encodeURIComponent(who.password)}@`);
const basic = (who) => `Basic ${Buffer.from(`${who.name}:${who.password}`).toString('base64')}`;
const after_ = (label) => banner.match(new RegExp(`${label}\\s+(https?://\\S+?)/?(\\s|$)`))[1];

before(async () => {
  remote = await startPouchServer({ admin: STORE_ADMIN });
  dir = mkdtempSync(path.join(tmpdir(), 'wisp-extstore-'));
  const secretFile = path.join(dir, 'store-secret');
  writeFileSync(secretFile, `${STORE_ADMIN.password}\n`, { mode: 0o600 });
  demo = spawn(wispBin, [
    'demo', '--data-dir', path.join(dir, 'data'), '--api-port', '0', '--couch-port', '0',
    '--user', `${USER.name}:${USER.password}`, '--cron', '* * * * * *', '--event-interval', '100000',
    '--store-url', remote.url, '--store-auth', 'cookie', '--store-user', STORE_ADMIN.name,
    '--store-secret-file', secretFile,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start: ${banner}`)), 60000);
    demo.stdout.on('data', (chunk) => {
      banner += chunk;
      if (banner.includes('Ctrl-C stops everything.')) {
        clearTimeout(timer);
        resolve();
      }
    });
    demo.on('exit', (code) => reject(new Error(`the demo exited with ${code}: ${banner}`)));
  });
});

after(async () => {
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGINT');
    await exited;
  }
  await remote?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the pipeline fills the external store with exactly the searched questions, each notified once', async () => {
  assert.match(banner, new RegExp(`External store\\s+${remote.url} \\(auth cookie\\)`));
  assert.doesNotMatch(banner, new RegExp(STORE_ADMIN.password), 'the store password is never printed');
  const store = Nano(withCredentials(remote.url, STORE_ADMIN));
  await expectPipelineConverged({
    stackexchange: after_('Stack Exchange').replace(/\/2\.3$/, ''),
    slack: after_('Slack webhook').replace(/\/services\/.*$/, ''),
    questions: store.use('questions'),
  });
  assert.ok(await store.use('events').info(), 'events exists on the external store');

  // Nothing went to the embedded store.
  const admin = banner.match(/\(admin ([^:]+):([^)]+)\)/);
  const couch = after_('CouchDB API');
  const local = Nano(withCredentials(couch, { name: admin[1], password: admin[2] }));
  assert.equal((await local.use('questions').info()).doc_count, 0);
});

test('the dashboard reaches the external store through /db, as wisp users only', async () => {
  const api = after_('Dashboard');
  const count = (await Nano(withCredentials(remote.url, STORE_ADMIN))
    .use('questions').info()).doc_count;
  assert.ok(count > 0);

  // Anonymous and wrong passwords get wisp's own answers.
  assert.equal((await fetch(`${api}/db/questions/_all_docs`)).status, 401);
  assert.equal((await fetch(`${api}/db/questions/_all_docs`, { headers: { Authorization: basic({ ...USER, password: 'x' }) } })).status, 401);

  // A signed-in user (wisp's session cookie) syncs both ways through wisp.
  const session = await fetch(`${api}/db/_session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(USER),
  });
  assert.equal(session.status, 200);
  const cookie = session.headers.get('set-cookie').split(';')[0];
  const through = new PouchDB(`${api}/db/questions`, {
    skip_setup: true,
    fetch: (url, opts) => { opts.headers.set('Cookie', cookie); return PouchDB.fetch(url, opts); },
  });
  const mine = new PouchDB('dashboard-copy', { adapter: 'memory' });
  await mine.replicate.from(through);
  assert.equal((await mine.info()).doc_count, count);
  const first = (await mine.allDocs({ include_docs: true, limit: 1 })).rows[0].doc;
  await mine.put({ ...first, owner: USER.name });
  await mine.replicate.to(through);
  const remoteDoc = await Nano(withCredentials(remote.url, STORE_ADMIN))
    .use('questions').get(first._id);
  assert.equal(remoteDoc.owner, USER.name);

  // Live sync's longpoll comes back through the proxy (bounded, no heartbeats).
  const seq = (await (await fetch(`${api}/db/questions`, { headers: { Cookie: cookie } })).json()).update_seq;
  const longpoll = await fetch(`${api}/db/questions/_changes?feed=longpoll&heartbeat=10000&timeout=500&since=${seq}`,
    { headers: { Cookie: cookie } });
  assert.equal(longpoll.status, 200);
  assert.deepEqual((await longpoll.json()).results, []);

  // A design document would change what every user of the store runs: admin only.
  const ddoc = await fetch(`${api}/db/questions/_design/x`, {
    method: 'PUT', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '{}',
  });
  assert.equal(ddoc.status, 403);
  assert.equal((await ddoc.json()).error, 'forbidden');
});
