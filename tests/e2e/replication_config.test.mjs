// Continuous replication declared by configuration (`wisp serve
// --replications FILE`, docs/replication.md): a push and a pull between
// wisp's `notes` and pouchdb-server's, which is killed in the middle of the
// replication, written to on both sides around the outage, and brought back
// on the same data; both sides must then hold the same documents with the
// same revisions. Then the status in `wisp replication status` and
// /metrics, and restarts of wisp with the same file (nothing rewritten) and
// with the entry removed (its jobs stop).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Nano from 'nano';
import { startWisp, wispBin, ADMIN } from './wisp_server.mjs';
import { eventually, startPouchServer } from './pouch_server.mjs';

const run = promisify(execFile);

let remote;
let configDir;
before(async () => {
  remote = await startPouchServer({ inMemory: false });
  configDir = mkdtempSync(path.join(tmpdir(), 'wisp-replications-'));
});
after(async () => {
  await remote?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

function writeConfig(name, replications) {
  const file = path.join(configDir, name);
  writeFileSync(file, JSON.stringify({ replications }));
  return file;
}

// Every live document's id and winning revision, and its conflicts.
async function revisions(db) {
  const all = await db.list({ include_docs: true, conflicts: true });
  return all.rows.filter((r) => !r.id.startsWith('_design/'))
    .map((r) => `${r.id} ${r.value.rev} ${JSON.stringify((r.doc._conflicts || []).sort())}`).sort();
}

async function schedulerDocs(wisp) {
  const r = await fetch(`${wisp.couchUrl}/_scheduler/docs`, {
    headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}` },
  });
  return (await r.json()).docs;
}

test('a configured push+pull replication survives the remote being killed and converges', async () => {
  const remoteNano = Nano(remote.url);
  await remoteNano.db.create('notes');
  const remoteNotes = remoteNano.use('notes');
  const config = writeConfig('both.json', [
    { name: 'notes', local: 'notes', remote: `${remote.url}/notes`, direction: 'both' },
  ]);
  const wisp = await startWisp({ extraArgs: ['--replications', config] });
  try {
    const local = Nano(wisp.authUrl).use('notes');  // made by wisp from the configuration

    // Both sides write; each sees the other's documents.
    await local.bulk({ docs: Array.from({ length: 20 }, (_, i) => ({ _id: `local-${i}`, n: i })) });
    await remoteNotes.bulk({ docs: Array.from({ length: 20 }, (_, i) => ({ _id: `remote-${i}`, n: i })) });
    await eventually(async () => assert.deepEqual(await revisions(local), await revisions(remoteNotes)), 15000);
    assert.equal((await revisions(local)).length, 40);

    // The same document changed on both sides while they cannot talk: a conflict.
    const shared = await local.get('local-0');
    await remote.kill();
    await local.insert({ ...shared, side: 'wisp' });
    await local.bulk({ docs: Array.from({ length: 10 }, (_, i) => ({ _id: `during-${i}` })) });
    // The outage shows in the jobs' state.
    await eventually(async () => {
      const docs = await schedulerDocs(wisp);
      assert.ok(docs.some((d) => d.state === 'crashing'), JSON.stringify(docs));
    }, 15000);

    await remote.restart();
    await remoteNotes.insert({ ...shared, side: 'remote' });
    await remoteNotes.bulk({ docs: Array.from({ length: 10 }, (_, i) => ({ _id: `after-${i}` })) });
    await eventually(async () => assert.deepEqual(await revisions(local), await revisions(remoteNotes)), 20000);
    const converged = await revisions(local);
    assert.equal(converged.length, 60);
    const conflicted = await local.get('local-0', { conflicts: true });
    assert.equal(conflicted._conflicts.length, 1, 'both edits are kept, one as the conflict');

    // The status: both jobs run again, with what they wrote.
    await eventually(async () => {
      const { stdout } = await run(wispBin, ['replication', 'status', '--url', wisp.couchUrl,
        '--admin', `${ADMIN.name}:${ADMIN.password}`]);
      assert.match(stdout, /^JOB\s+STATE\s+CHECKPOINT\s+WRITTEN\s+PENDING\s+LAST ERROR$/m);
      assert.match(stdout, /^wisp-config:notes:push\s+running\s+\d+\s+\d+/m);
      assert.match(stdout, /^wisp-config:notes:pull\s+running\s+\d+\s+\d+/m);
    }, 15000);
    const metrics = await (await fetch(`http://127.0.0.1:${wisp.ports.api}/metrics`, {
      headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}` },
    })).text();
    assert.match(metrics, /^wisp_replication_state\{job="wisp-config:notes:push",state="running"\} 1$/m);
    assert.match(metrics, /^wisp_replication_state\{job="wisp-config:notes:pull",state="crashing"\} 0$/m);
    assert.match(metrics, /^wisp_replication_docs_written\{job="wisp-config:notes:pull"\} \d+$/m);
    assert.match(metrics, /^wisp_replication_pending_changes\{job="wisp-config:notes:push"\} 0$/m);
    const ops = await fetch(`http://127.0.0.1:${wisp.ports.api}/ops/replications`, {
      headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}` },
    });
    assert.equal(ops.status, 200);
    assert.deepEqual((await ops.json()).docs.map((d) => d.doc_id).sort(),
      ['wisp-config:notes:pull', 'wisp-config:notes:push']);
  } finally {
    await wisp.stop({ keepData: true });
  }

  // The same file again: the same jobs, their documents untouched; they
  // resume and carry what was written while wisp was down.
  const again = await startWisp({ dataDir: wisp.dir, extraArgs: ['--replications', config] });
  try {
    const replicator = Nano(again.authUrl).use('_replicator');
    const push = await replicator.get('wisp-config:notes:push');
    assert.match(push._rev, /^1-/, 'the same configuration rewrites nothing');
    await remoteNotes.insert({ _id: 'while-wisp-restarted' });
    await eventually(async () => assert.ok(await Nano(again.authUrl).use('notes').get('while-wisp-restarted')), 15000);
  } finally {
    await again.stop({ keepData: true });
  }

  // The entry removed: its documents are deleted, its jobs stop.
  const none = writeConfig('none.json', []);
  const last = await startWisp({ dataDir: wisp.dir, extraArgs: ['--replications', none] });
  try {
    assert.deepEqual(await schedulerDocs(last), []);
    await assert.rejects(Nano(last.authUrl).use('_replicator').get('wisp-config:notes:push'), { statusCode: 404 });
  } finally {
    await last.stop();
  }
});

test('a bad replications file stops the start with a clear error', async () => {
  const bad = writeConfig('bad.json', [{ name: 'x', local: 'notes', remote: 'ftp://nowhere/x', direction: 'both' }]);
  const dir = mkdtempSync(path.join(tmpdir(), 'wisp-e2e-'));
  try {
    await assert.rejects(run(wispBin, ['serve', '--data-dir', dir, '--api-port', '0', '--couch-port', '0',
      '--replications', bad]), (e) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /replication 'x': "remote" must be an http:\/\/ or https:\/\/ URL/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
