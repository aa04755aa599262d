// nano, the official CouchDB client for Node.js, against wisp's store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Nano from 'nano';
import { startWisp } from './wisp_server.mjs';

let wisp;
let nano;

before(async () => {
  wisp = await startWisp();
  nano = Nano(wisp.authUrl);
});
after(async () => wisp.stop());

test('creates, lists and destroys databases', async () => {
  await nano.db.create('nano_dbs');
  assert.ok((await nano.db.list()).includes('nano_dbs'));
  await assert.rejects(nano.db.create('nano_dbs'), (e) => e.statusCode === 412 && e.error === 'file_exists');
  await assert.rejects(nano.db.create('Bad Name'), (e) => e.statusCode === 400 && e.error === 'illegal_database_name');
  await nano.db.destroy('nano_dbs');
  assert.ok(!(await nano.db.list()).includes('nano_dbs'));
});

test('does CRUD with revisions and conflicts', async () => {
  await nano.db.create('nano_crud');
  const db = nano.use('nano_crud');
  const created = await db.insert({ title: 'How do I sort?' }, 'q1');
  assert.equal(created.ok, true);
  assert.match(created.rev, /^1-[0-9a-f]{32}$/);
  const doc = await db.get('q1');
  assert.equal(doc.title, 'How do I sort?');
  const updated = await db.insert({ ...doc, owner: 'ana' });
  assert.match(updated.rev, /^2-/);
  await assert.rejects(db.insert({ ...doc, owner: 'bo' }), (e) => e.statusCode === 409 && e.error === 'conflict');
  const head = await db.head('q1');
  assert.equal(head.etag, `"${updated.rev}"`);
  await db.destroy('q1', updated.rev);
  await assert.rejects(db.get('q1'), (e) => e.statusCode === 404 && e.reason === 'deleted');
});

test('writes in bulk and reads all docs', async () => {
  await nano.db.create('nano_bulk');
  const db = nano.use('nano_bulk');
  const docs = Array.from({ length: 50 }, (_, i) => ({ _id: `d${String(i).padStart(3, '0')}`, n: i }));
  const results = await db.bulk({ docs });
  assert.equal(results.length, 50);
  assert.ok(results.every((r) => r.ok));
  const page = await db.list({ startkey: 'd010', endkey: 'd019', include_docs: true });
  assert.equal(page.rows.length, 10);
  assert.equal(page.rows[0].doc.n, 10);
  assert.equal(page.total_rows, 50);
  const info = await db.info();
  assert.equal(info.doc_count, 50);
});

test('follows changes', async () => {
  await nano.db.create('nano_changes');
  const db = nano.use('nano_changes');
  await db.insert({ a: 1 }, 'x');
  await db.insert({ b: 1 }, 'y');
  const changes = await db.changes({ since: 0, include_docs: true });
  assert.deepEqual(changes.results.map((c) => c.id), ['x', 'y']);
  assert.equal(changes.results[1].doc.b, 1);
  assert.equal(changes.last_seq, 2);
});

test('refuses anonymous and wrong credentials', async () => {
  const anonymous = Nano(wisp.couchUrl);
  await assert.rejects(anonymous.db.list(), (e) => e.statusCode === 401);
  const wrong = Nano(wisp.couchUrl.replace('http://', 'http://admin:nope@'));
  await assert.rejects(wrong.db.list(), (e) => e.statusCode === 401);
});

test('creates a Mango index and finds through it', async () => {
  await nano.db.create('nano_find');
  const db = nano.use('nano_find');
  const docs = Array.from({ length: 40 }, (_, i) => ({ _id: `q${String(i).padStart(2, '0')}`, score: i, tag: i % 2 ? 'odd' : 'even' }));
  await db.bulk({ docs });
  const created = await db.createIndex({ index: { fields: ['score'] }, name: 'by-score', ddoc: 'scores' });
  assert.deepEqual(created, { result: 'created', id: '_design/scores', name: 'by-score' });
  assert.equal((await db.createIndex({ index: { fields: ['score'] }, name: 'by-score', ddoc: 'scores' })).result, 'exists');

  const found = await db.find({
    selector: { score: { $gte: 30 } }, sort: [{ score: 'desc' }], limit: 3, execution_stats: true,
  });
  assert.deepEqual(found.docs.map((d) => d.score), [39, 38, 37]);
  // Only the keys of the page were read: the index served the range and the sort.
  assert.equal(found.execution_stats.total_keys_examined, 3);
  assert.equal(found.warning, undefined);

  const scanned = await db.find({ selector: { tag: 'odd' }, limit: 100 });
  assert.equal(scanned.docs.length, 20);
  assert.match(scanned.warning, /No matching index found/);
  await assert.rejects(db.find({ selector: { tag: 'odd' }, sort: ['tag'] }),
    (e) => e.statusCode === 400 && e.error === 'no_usable_index');
});
