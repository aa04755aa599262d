// The dashboard's list logic (web/app/query.js) without a browser: the URL
// hash, the filters and counts, and the field-by-field merge of conflicting
// edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_QUERY, decodeEntities, listHash, mergeQuestion, narrows, parseHash, runQuery, sortQuestions, suggestAssignees, tagCounts,
} from '../../web/app/query.js';

function q(id, fields = {}, so = {}) {
  return {
    _id: id, type: 'question', owner: null, notes: [], custom_tags: [], ...fields,
    question: { title: `T${id}`, body: '', tags: [], creation_date: Number(id), last_activity_date: Number(id), ...so },
  };
}

test('a list hash round-trips, and defaults stay out of it', () => {
  const query = { ...DEFAULT_QUERY, view: 'mine', tag: 'c++', q: 'two words', rejected: true, sort: 'activity' };
  const hash = listHash(query);
  assert.deepEqual(parseHash(hash), { route: 'list', query });
  assert.equal(listHash(DEFAULT_QUERY), '#/list');
  assert.deepEqual(parseHash('#/q/123'), { route: 'question', id: '123', query: DEFAULT_QUERY });
  assert.equal(parseHash('#/list?view=bogus&sort=nope').query.view, 'unassigned');
});

test('views, toggles, tags and search, with the counts of every list', () => {
  const docs = [
    q('1', {}, { tags: ['php'] }),
    q('2', { owner: 'ada' }),
    q('3', { owner: 'bob', custom_tags: ['urgent'] }),
    q('4', { rejected: true }),
    q('5', { owner: 'ada', answered: true }, { title: 'Caf&eacute; &amp; crash' }),
  ];
  const run = (change) => runQuery(docs, { ...DEFAULT_QUERY, ...change }, 'ada');
  assert.deepEqual(run({}).items.map((d) => d._id), ['1']);
  assert.deepEqual(run({}).counts, { unassigned: 1, mine: 1, all: 3 });
  assert.deepEqual(run({ rejected: true }).items.map((d) => d._id), ['4', '1']);   // newest first
  assert.deepEqual(run({ view: 'mine', answered: true }).items.map((d) => d._id), ['5', '2']);
  assert.deepEqual(run({ view: 'all', tag: 'urgent' }).items.map((d) => d._id), ['3']);
  assert.deepEqual(run({ view: 'all', tag: 'PHP' }).items.map((d) => d._id), ['1']);
  assert.deepEqual(run({ view: 'all', answered: true, q: '& crash' }).items.map((d) => d._id), ['5']);
  assert.deepEqual(run({ view: 'all', q: 'nothing-like-this' }).counts, { unassigned: 0, mine: 0, all: 0 });
});

test('sorting by activity counts triage edits as activity', () => {
  const older = q('1', { notes: [{ author: 'ada', at: '2030-01-01T00:00:00Z', text: 'x' }] });
  const newer = q('2');
  const ids = (sort) => runQuery([older, newer], { ...DEFAULT_QUERY, view: 'all', sort }, 'ada').items.map((d) => d._id);
  assert.deepEqual(ids('created'), ['2', '1']);
  assert.deepEqual(ids('activity'), ['1', '2']);
});

test('entities decode to text, never to markup', () => {
  assert.equal(decodeEntities('a &lt;b&gt; &#39;c&#39; &#x263A; &unknown;'), "a <b> 'c' ☺ &unknown;");
});

test('tags are counted and people who know a question\'s tags come first', () => {
  assert.deepEqual(tagCounts([q('1', { custom_tags: ['x'] }, { tags: ['php'] }), q('2', {}, { tags: ['php'] })]),
    [['php', 2], ['x', 1]]);
  const ranked = suggestAssignees(q('1', {}, { tags: ['couchdb'] }),
    [{ name: 'ann' }, { name: 'zed', custom_tags: ['couchdb'] }]);
  assert.deepEqual(ranked.map((u) => [u.name, u.matches]), [['zed', ['couchdb']], ['ann', []]]);
});

test('conflicting edits merge field by field, keeping every note and tag', () => {
  const base = q('1');
  const mine = {
    ...base, owner: 'ada', assigned_at: '2026-01-02T00:00:00Z', custom_tags: ['a'],
    notes: [{ author: 'ada', at: '2026-01-02T00:00:00Z', text: 'mine' }],
  };
  const theirs = {
    ...base, rejected: true, rejected_at: '2026-01-03T00:00:00Z', custom_tags: ['b'],
    notes: [{ author: 'bob', at: '2026-01-01T00:00:00Z', text: 'theirs' }],
  };
  const merged = mergeQuestion(theirs, [mine]);
  assert.equal(merged.owner, 'ada');
  assert.equal(merged.rejected, true);
  assert.deepEqual(merged.custom_tags, ['a', 'b']);
  assert.deepEqual(merged.notes.map((n) => n.text), ['theirs', 'mine']);
  // A later unassignment beats an earlier assignment.
  const unassigned = { ...base, owner: null, assigned_at: '2026-01-05T00:00:00Z' };
  assert.equal(mergeQuestion(mine, [unassigned]).owner, null);
});

test('a search that grows narrows the last result; anything else starts over', () => {
  const docs = [q('1', {}, { title: 'replication stalls' }), q('2', {}, { title: 'repair a view' }), q('3', { owner: 'ada' })];
  const base = { ...DEFAULT_QUERY, view: 'all' };
  const first = runQuery(docs, { ...base, q: 'rep' }, 'ada');
  assert.deepEqual(first.matched.map((d) => d._id).sort(), ['1', '2']);
  assert.ok(narrows({ ...base, q: 'rep' }, { ...base, q: 'Repl' }));
  assert.ok(narrows({ ...base, q: 'rep' }, { ...base, q: 'rep stalls' }));
  assert.ok(narrows({ ...base, q: 'rep' }, { ...base, q: 'rep', view: 'mine' }));   // counts cover every list
  assert.ok(!narrows({ ...base, q: 'repl' }, { ...base, q: 'rep' }));
  assert.ok(!narrows({ ...base, q: 'rep' }, { ...base, q: 'rep', rejected: true }));
  const narrowed = runQuery(first.matched, { ...base, q: 'repl' }, 'ada');
  assert.deepEqual(narrowed.items.map((d) => d._id), runQuery(docs, { ...base, q: 'repl' }, 'ada').items.map((d) => d._id));
});

test('a query over presorted questions lists them as a sorting query does', () => {
  const docs = [];
  for (let i = 0; i < 200; i++) {
    docs.push(q(String(1000 + ((i * 37) % 200)), {
      owner: i % 3 ? null : 'ada',
      ...(i % 7 ? {} : { assigned_at: `2026-01-0${1 + (i % 9)}T00:00:00Z` }),
    }, {
      title: i % 2 ? 'replication stalls' : 'a view', creation_date: 1_700_000_000 + (i % 13) * 60,
      last_activity_date: 1_700_000_000 + (i % 17) * 60,
    }));
  }
  for (const sort of ['created', 'activity']) {
    const sorted = sortQuestions(docs, sort);
    for (const change of [{}, { q: 'repl' }, { view: 'mine' }, { view: 'all', q: 'view' }]) {
      const query = { ...DEFAULT_QUERY, sort, ...change };
      const plain = runQuery(docs, query, 'ada');
      const fast = runQuery(sorted, query, 'ada', undefined, true);
      assert.deepEqual(fast.items.map((d) => d._id), plain.items.map((d) => d._id), `${sort} ${JSON.stringify(change)}`);
      assert.deepEqual(fast.counts, plain.counts);
    }
  }
});

test('the operations page reads the Prometheus text format', async () => {
  const { parseMetrics } = await import('../../web/app/ops.js');
  const parsed = parseMetrics([
    '# HELP wisp_activations_total finished activations',
    '# TYPE wisp_activations_total counter',
    'wisp_activations_total{action="guest/a",kind="nodejs:20",status="success"} 3',
    'wisp_activations_total{action="guest/b \\"q\\"",kind="nodejs:20",status="application_error"} 1.5e1',
    'wisp_uptime_seconds 12.5',
    'garbage line',
  ].join('\n'));
  assert.deepEqual(parsed, [
    { name: 'wisp_activations_total', labels: { action: 'guest/a', kind: 'nodejs:20', status: 'success' }, value: 3 },
    { name: 'wisp_activations_total', labels: { action: 'guest/b "q"', kind: 'nodejs:20', status: 'application_error' }, value: 15 },
    { name: 'wisp_uptime_seconds', labels: {}, value: 12.5 },
  ]);
});
