// Replication between wisp and pouchdb-server 4.2.0, a second, independent
// CouchDB-compatible server: wisp driving (its /_replicate and _replicator
// documents, one-shot and continuous, across a restart of wisp) and
// pouchdb-server driving (its own /_replicate, which runs PouchDB's
// replicator against wisp).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import Nano from 'nano';
import { startWisp, ADMIN } from './wisp_server.mjs';
import { eventually, startPouchServer } from './pouch_server.mjs';

let wisp;
let nano;
let pouchServer;
let ps;  // nano on pouchdb-server (admin party)

before(async () => {
  [wisp, pouchServer] = await Promise.all([startWisp(), startPouchServer()]);
  nano = Nano(wisp.authUrl);
  ps = Nano(pouchServer.url);
});
after(async () => {
  await wisp?.stop();
  await pouchServer?.stop();
});

// POST /_replicate on wisp, as the admin.
async function wispReplicate(body) {
  const r = await fetch(`${wisp.couchUrl}/_replicate`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`,
    },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function seed(db, prefix, count) {
  await db.bulk({ docs: Array.from({ length: count }, (_, i) => ({ _id: `${prefix}${i}`, n: i })) });
  const first = await db.get(`${prefix}0`);
  await db.attachment.insert(`${prefix}0`, 'note.txt', Buffer.from(`hello from ${prefix}`), 'text/plain',
    { rev: first._rev });
}

async function ids(db) {
  return (await db.list()).rows.map((r) => r.id).sort();
}

test('wisp pushes to and pulls from pouchdb-server with /_replicate, attachments included', async () => {
  await nano.db.create('push_src');
  const src = nano.use('push_src');
  await seed(src, 'w', 150);
  const push = await wispReplicate({ source: 'push_src', target: `${pouchServer.url}/push_dst`, create_target: true });
  assert.equal(push.status, 200, JSON.stringify(push.body));
  assert.equal(push.body.ok, true);
  assert.equal(push.body.history[0].docs_written, 150);
  const pushed = ps.use('push_dst');
  assert.deepEqual(await ids(pushed), await ids(src));
  assert.equal((await pushed.attachment.get('w0', 'note.txt')).toString(), 'hello from w');

  // Nothing new: the checkpoint on both ends keeps the second run from reading anything.
  const again = await wispReplicate({ source: 'push_src', target: `${pouchServer.url}/push_dst` });
  assert.equal(again.status, 200);
  assert.equal(again.body.history[0].docs_read, 0);

  await ps.db.create('pull_src');
  const psSrc = ps.use('pull_src');
  await seed(psSrc, 'p', 120);
  const doomed = await psSrc.insert({ _id: 'doomed' });
  await psSrc.destroy('doomed', doomed.rev);
  const pull = await wispReplicate({ source: `${pouchServer.url}/pull_src`, target: 'pull_dst', create_target: true });
  assert.equal(pull.status, 200, JSON.stringify(pull.body));
  const pulled = nano.use('pull_dst');
  assert.deepEqual(await ids(pulled), await ids(psSrc));
  assert.equal((await pulled.attachment.get('p0', 'note.txt')).toString(), 'hello from p');
  await assert.rejects(pulled.get('doomed'), (e) => e.statusCode === 404 && e.reason === 'deleted');
});

test('a continuous /_replicate job follows new writes until it is cancelled', async () => {
  await nano.db.create('cont_src');
  const src = nano.use('cont_src');
  await src.insert({ _id: 'c0' });
  const body = { source: 'cont_src', target: `${pouchServer.url}/cont_dst`, continuous: true, create_target: true };
  const started = await wispReplicate(body);
  assert.equal(started.status, 202);
  assert.match(started.body._local_id, /\+continuous/);
  const dst = ps.use('cont_dst');
  await eventually(async () => assert.ok(await dst.get('c0')));
  await src.insert({ _id: 'c1', late: true });
  await eventually(async () => assert.equal((await dst.get('c1')).late, true));

  const jobs = await nano.request({ path: '_scheduler/jobs' });
  assert.ok(jobs.jobs.some((j) => j.id === started.body._local_id));
  const cancelled = await wispReplicate({ ...body, cancel: true });
  assert.equal(cancelled.status, 200);
  assert.equal(cancelled.body._local_id, started.body._local_id);
  const missing = await wispReplicate({ ...body, cancel: true });
  assert.equal(missing.status, 404);
});

test('_replicator documents run one-shot and continuous jobs, and a restart of wisp resumes them', async () => {
  // A dedicated wisp with its own data dir, restarted in the middle.
  const first = await startWisp();
  const dataDir = first.dir;
  let current = first;
  try {
    let n = Nano(current.authUrl);
    await n.db.create('live_src');
    await ps.db.create('live_pull_src');
    await seed(n.use('live_src'), 'l', 20);
    await seed(ps.use('live_pull_src'), 'r', 20);
    const replicator = n.use('_replicator');
    await replicator.insert({ source: 'live_src', target: `${pouchServer.url}/live_dst`, continuous: true, create_target: true }, 'push');
    await replicator.insert({ source: `${pouchServer.url}/live_pull_src`, target: 'live_pull_dst', continuous: true, create_target: true }, 'pull');
    await replicator.insert({ source: 'live_src', target: `${pouchServer.url}/once_dst`, create_target: true }, 'once');

    const pushed = ps.use('live_dst');
    await eventually(async () => assert.equal((await pushed.info()).doc_count, 20));
    assert.equal((await pushed.attachment.get('l0', 'note.txt')).toString(), 'hello from l');
    await eventually(async () => assert.equal((await n.use('live_pull_dst').info()).doc_count, 20));
    await eventually(async () => assert.equal((await replicator.get('once'))._replication_state, 'completed'));
    assert.equal((await ps.use('once_dst').info()).doc_count, 20);
    const docs = await n.request({ path: '_scheduler/docs' });
    const states = Object.fromEntries(docs.docs.map((d) => [d.doc_id, d.state]));
    assert.deepEqual(states, { once: 'completed', pull: 'running', push: 'running' });
    const tasks = await n.request({ path: '_active_tasks' });
    assert.equal(tasks.filter((t) => t.type === 'replication' && t.continuous).length, 2);

    // Restart wisp on the same data dir while both continuous jobs run.
    await current.stop({ keepData: true });
    await ps.use('live_pull_src').insert({ _id: 'remote-while-down' });
    current = await startWisp({ dataDir });
    n = Nano(current.authUrl);
    await n.use('live_src').insert({ _id: 'after-restart' });
    await ps.use('live_pull_src').insert({ _id: 'remote-after-restart' });
    await eventually(async () => assert.ok(await pushed.get('after-restart')));
    await eventually(async () => assert.ok(await n.use('live_pull_dst').get('remote-while-down')));
    await eventually(async () => assert.ok(await n.use('live_pull_dst').get('remote-after-restart')));

    // The resumed jobs started from their checkpoints: they read only what was new.
    const resumed = await n.request({ path: '_scheduler/docs/_replicator/push' });
    assert.equal(resumed.state, 'running');
    await eventually(async () => {
      const doc = await n.request({ path: '_scheduler/docs/_replicator/push' });
      assert.equal(doc.info.docs_read, 1);
    });
    // The one-shot job completed before the restart and does not run again.
    const once = await n.request({ path: '_scheduler/docs/_replicator/once' });
    assert.equal(once.state, 'completed');

    // Deleting the document stops the job.
    const pushDoc = await n.use('_replicator').get('push');
    await n.use('_replicator').destroy('push', pushDoc._rev);
    await eventually(async () => {
      const jobs = await n.request({ path: '_scheduler/jobs' });
      assert.ok(!jobs.jobs.some((j) => j.doc_id === 'push'));
    });
  } finally {
    await current.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('pouchdb-server replicates from and to wisp with its own /_replicate', async () => {
  await nano.db.create('for_ps');
  const src = nano.use('for_ps');
  await seed(src, 'x', 60);
  const from = await ps.request({
    method: 'POST', path: '_replicate',
    body: { source: `${wisp.authUrl}/for_ps`, target: 'ps_from_wisp', create_target: true },
  });
  assert.equal(from.ok, true);
  const copy = ps.use('ps_from_wisp');
  assert.deepEqual(await ids(copy), await ids(src));
  assert.equal((await copy.attachment.get('x0', 'note.txt')).toString(), 'hello from x');

  await copy.insert({ _id: 'from-ps', note: 'written on pouchdb-server' });
  const to = await ps.request({
    method: 'POST', path: '_replicate',
    body: { source: 'ps_from_wisp', target: `${wisp.authUrl}/wisp_from_ps`, create_target: true },
  });
  assert.equal(to.ok, true);
  const back = nano.use('wisp_from_ps');
  assert.equal((await back.get('from-ps')).note, 'written on pouchdb-server');
  assert.equal((await back.attachment.get('x0', 'note.txt')).toString(), 'hello from x');
  assert.equal((await back.info()).doc_count, 61);
});
