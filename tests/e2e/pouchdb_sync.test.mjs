// PouchDB, the client the dashboard uses, syncing live with wisp.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import PouchDB from 'pouchdb';
import MemoryAdapter from 'pouchdb-adapter-memory';
import { eventually, startWisp } from './wisp_server.mjs';

PouchDB.plugin(MemoryAdapter);

let wisp;
before(async () => { wisp = await startWisp(); });
after(async () => wisp.stop());

async function winners(db) {
  const all = await db.allDocs({ include_docs: true, conflicts: true });
  return all.rows.map((r) => ({ id: r.id, rev: r.value.rev, conflicts: r.doc._conflicts || [] }));
}

test('one-shot replication both ways keeps revisions and attachments', async () => {
  const remote = new PouchDB(`${wisp.authUrl}/pouch_oneshot`);
  const local = new PouchDB('oneshot', { adapter: 'memory' });
  await local.bulkDocs(Array.from({ length: 200 }, (_, i) => ({ _id: `q${i}`, n: i })));
  await local.putAttachment('q0', 'note.txt', (await local.get('q0'))._rev, Buffer.from('hello'), 'text/plain');
  await local.replicate.to(remote);
  const info = await remote.info();
  assert.equal(info.doc_count, 200);
  const att = await remote.getAttachment('q0', 'note.txt');
  assert.equal(att.toString(), 'hello');

  const back = new PouchDB('oneshot-back', { adapter: 'memory' });
  await back.replicate.from(remote);
  assert.deepEqual(await winners(back), await winners(local));
});

test('live two-way sync of 10,000 documents converges with conflicts, deletes and attachments', async () => {
  const N = 10000;
  const remote = new PouchDB(`${wisp.authUrl}/pouch_live`);
  const a = new PouchDB('live-a', { adapter: 'memory' });
  const b = new PouchDB('live-b', { adapter: 'memory' });
  await a.bulkDocs(Array.from({ length: N }, (_, i) => ({ _id: `q${String(i).padStart(5, '0')}`, n: i, tags: ['c++'] })));

  const syncA = a.sync(remote, { live: true, retry: true });
  const syncB = b.sync(remote, { live: true, retry: true });
  try {
    await eventually(async () => assert.equal((await b.info()).doc_count, N));

    // Concurrent edits of the same documents on both sides, and deletes.
    const ids = Array.from({ length: 100 }, (_, i) => `q${String(i).padStart(5, '0')}`);
    const fromA = await a.allDocs({ keys: ids, include_docs: true });
    const fromB = await b.allDocs({ keys: ids, include_docs: true });
    await Promise.all([
      a.bulkDocs(fromA.rows.map((r) => ({ ...r.doc, owner: 'ana' }))),
      b.bulkDocs(fromB.rows.map((r) => ({ ...r.doc, owner: 'bo' }))),
    ]);
    const toDelete = await a.allDocs({ keys: ['q09998', 'q09999'] });
    await a.bulkDocs(toDelete.rows.map((r) => ({ _id: r.id, _rev: r.value.rev, _deleted: true })));

    await eventually(async () => {
      const [wa, wb, wr] = await Promise.all([winners(a), winners(b), winners(remote)]);
      assert.equal(wa.length, N - 2);
      assert.deepEqual(wb, wa);
      assert.deepEqual(wr, wa);
    });
    const conflicted = await remote.get('q00000', { conflicts: true });
    assert.equal(conflicted._conflicts.length, 1, 'the concurrent edit is kept as a conflict, not lost');

    // Attachments written on either side while the sync runs reach the other.
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await a.putAttachment('q00500', 'screenshot.png', (await a.get('q00500'))._rev, png, 'image/png');
    await b.putAttachment('q00501', 'notes.txt', (await b.get('q00501'))._rev, Buffer.from('triage notes'), 'text/plain');
    await eventually(async () => {
      const onB = await b.getAttachment('q00500', 'screenshot.png');
      const onA = await a.getAttachment('q00501', 'notes.txt');
      assert.deepEqual(Buffer.from(onB), png);
      assert.equal(Buffer.from(onA).toString(), 'triage notes');
    });
    const stub = (await remote.get('q00500'))._attachments['screenshot.png'];
    assert.equal(stub.content_type, 'image/png');
    assert.equal(stub.length, png.length);
  } finally {
    syncA.cancel();
    syncB.cancel();
  }
});
