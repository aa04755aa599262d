// The check every end-to-end run of the pipeline ends with: the store holds
// exactly the questions of the simulated world that carry a searched tag,
// each at its latest activity and each notified, and the simulated Slack got
// one message per question, none twice.
import assert from 'node:assert/strict';
import { eventually } from './wisp_server.mjs';

// The shipped manifest's searches (src/apps/stackoverflow/manifest.yaml): OR
// over two groups, AND over node.js+openwhisk (a subset of the first).
export const SEARCHED = ['openwhisk', 'serverless', 'ibm-cloud', 'couchdb', 'cloudant'];

// `stackexchange` and `slack` are the simulators' base URLs (no /2.3, no
// /services/...); `questions` is a nano database. Returns the stored docs by id.
export async function expectPipelineConverged({ stackexchange, slack, questions, timeoutMs = 90000 }) {
  const world = (await (await fetch(`${stackexchange}/admin/questions`)).json()).items;
  const expected = world.filter((q) => q.tags.some((t) => SEARCHED.includes(t)));
  assert.ok(expected.length > 10, `the simulated world has searched questions (${expected.length})`);
  const stored = await eventually(async () => {
    const rows = (await questions.list({ include_docs: true })).rows.filter((r) => !r.id.startsWith('_'));
    assert.equal(rows.length, expected.length);
    assert.ok(rows.every((r) => r.doc.notified_at), 'every question is notified');
    return rows;
  }, timeoutMs);
  const byId = new Map(stored.map((r) => [r.id, r.doc]));
  for (const q of expected) {
    const doc = byId.get(String(q.question_id));
    assert.ok(doc, `question ${q.question_id} is stored`);
    assert.equal(doc.type, 'question');
    assert.equal(doc.status, 'new');
    assert.equal(doc.question.last_activity_date, q.last_activity_date);
  }
  const messages = (await (await fetch(`${slack}/admin/messages`)).json()).messages;
  const posted = messages.map((m) => (m.payload.text || '').match(/stackoverflow\.com\/questions\/(\d+)\//)?.[1]);
  assert.equal(new Set(posted).size, posted.length, 'no question was posted twice');
  assert.deepEqual([...new Set(posted)].sort(), [...byId.keys()].sort());
  return byId;
}
