// wisp backup/restore and Cloudant's couchbackup (@cloudant/couchbackup, the
// npm package's own CLIs) read each other's files: couchbackup backs up a
// database of wisp and `wisp restore` reads the file; `wisp backup` writes a
// file that couchrestore reads. Both copies must hold every leaf revision
// (conflicts, deletions) with its attachments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Nano from 'nano';
import { startWisp, wispBin } from './wisp_server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const couchbackupBin = path.join(here, 'node_modules/@cloudant/couchbackup/bin/couchbackup.bin.js');
const couchrestoreBin = path.join(here, 'node_modules/@cloudant/couchbackup/bin/couchrestore.bin.js');

let wisp;
let nano;
let dir;

function run(command, args, { stdinFile } = {}) {
  const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  try {
    const r = spawnSync(command, args, { stdio: [stdin, 'pipe', 'pipe'], encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, `${path.basename(args[0] || command)} failed: ${r.stdout}\n${r.stderr}`);
    return r;
  } finally {
    if (stdinFile) closeSync(stdin);
  }
}

// Every leaf of every document (deleted ones too), with history and
// attachment bytes, keyed by id and rev.
async function leaves(dbName) {
  const db = nano.use(dbName);
  const changes = await db.changes({ style: 'all_docs' });
  const out = {};
  for (const change of changes.results) {
    const revs = await db.get(change.id, { open_revs: 'all', revs: true, attachments: true });
    out[change.id] = {};
    for (const entry of revs) out[change.id][entry.ok._rev] = entry.ok;
  }
  return out;
}

before(async () => {
  wisp = await startWisp();
  nano = Nano(wisp.authUrl);
  dir = mkdtempSync(path.join(tmpdir(), 'wisp-couchbackup-'));
  await nano.db.create('so_questions');
  const db = nano.use('so_questions');
  const docs = [];
  for (let i = 0; i < 120; i++) {
    docs.push({
      _id: `q${1000 + i}`, type: 'question', status: 'new', owner: null,
      question: { question_id: 1000 + i, title: `Question ${i} &amp; more`, tags: ['couchdb'] },
      _attachments: { 'body.html': { content_type: 'text/html', data: Buffer.from(`<p>${i} \u00e9</p>`).toString('base64') } },
    });
  }
  const written = await db.bulk({ docs });
  // A conflict on q1000 and a deletion of q1001, as a replica would bring them.
  const base = written[0].rev.split('-')[1];
  await db.bulk({ new_edits: false, docs: [
    { _id: 'q1000', _rev: `2-${'a'.repeat(32)}`, _revisions: { start: 2, ids: ['a'.repeat(32), base] }, owner: 'ana' },
    { _id: 'q1000', _rev: `2-${'b'.repeat(32)}`, _revisions: { start: 2, ids: ['b'.repeat(32), base] }, owner: 'bo' },
  ] });
  const q1001 = await db.get('q1001');
  await db.destroy('q1001', q1001._rev);
});

after(async () => {
  await wisp.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('wisp restore reads a file that couchbackup wrote from wisp', async () => {
  const file = path.join(dir, 'from-couchbackup.jsonl');
  run(process.execPath, [couchbackupBin, '--url', wisp.authUrl, '--db', 'so_questions', '--attachments',
    '--output', file, '--log', path.join(dir, 'couchbackup.log'), '--quiet']);
  const header = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]);
  assert.equal(header.name, '@cloudant/couchbackup');
  assert.equal(header.attachments, true);

  const r = run(wispBin, ['restore', file, 'from_couchbackup', '--url', wisp.authUrl]);
  assert.match(r.stdout, /ok: restored 121 document revisions/);
  const copy = await leaves('from_couchbackup');
  assert.deepEqual(copy, await leaves('so_questions'));
  assert.equal(Object.keys(copy.q1000).length, 2);  // the conflict came through
});

test('couchrestore reads a file that wisp backup wrote', async () => {
  const file = path.join(dir, 'from-wisp.jsonl');
  const r = run(wispBin, ['backup', 'so_questions', '-o', file, '--url', wisp.authUrl]);
  assert.match(r.stdout, /ok: backed up 120 documents \(121 revisions\)/);
  await nano.db.create('from_wisp');  // couchrestore wants an existing, empty database
  run(process.execPath, [couchrestoreBin, '--url', wisp.authUrl, '--db', 'from_wisp', '--attachments', '--quiet'],
    { stdinFile: file });
  assert.deepEqual(await leaves('from_wisp'), await leaves('so_questions'));
});
