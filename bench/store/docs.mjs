// bench/store/docs.mjs: deterministic Stack Overflow-like question documents.
//
// genDoc(i, prefix) returns the JSON text of one question of about 1.5 KB:
// a title with HTML entities, an HTML body, a tags array, an owner object,
// counters and timestamps. The same (seed, i, prefix) gives the same text.
//
//   node bench/store/docs.mjs N FILE [SEED]   writes N documents to FILE, one JSON text a line

import { createWriteStream } from 'node:fs';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('how why what when can cannot should does the a an in on of to for with without from ' +
  'array list map string pointer reference thread mutex vector iterator template class struct ' +
  'function lambda closure promise async await callback error exception null undefined value ' +
  'type generic interface module import export package build compile link runtime memory leak ' +
  'query index table join select insert update delete transaction commit rollback cursor ' +
  'request response header cookie session token socket stream buffer file path directory ' +
  'performance slow fast cache loop recursion sort search tree graph hash set queue stack').split(' ');
const TAGS = ('javascript python java c# php android html jquery c++ css ios mysql sql node.js ' +
  'reactjs arrays c r json swift django typescript angular git linux regex spring postgresql ' +
  'docker rust go pandas bash sqlite couchdb pouchdb performance multithreading').split(' ');
const NAMES = ('alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy ' +
  'rupert sybil trent victor walter').split(' ');
const ENTITIES = ['&quot;', '&amp;', '&#39;', '&lt;', '&gt;', '&#x2F;'];

export function makeGenerator(seed = 42) {
  return function genDoc(i, prefix = 'q') {
    const rnd = mulberry32((seed * 1000003 + i * 7919 + prefix.charCodeAt(0)) >>> 0);
    const int = (n) => Math.floor(rnd() * n);
    const pick = (arr) => arr[int(arr.length)];
    const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
    const ent = pick(ENTITIES);
    const title = `${words(3)} ${ent}${words(2)}${ent} ${words(3 + int(4))}?`;
    const para = () => `<p>${words(14 + int(10))} <code>${pick(WORDS)}()</code> ${words(6 + int(8))}.</p>\n`;
    let body = para() + para();
    body += `<pre><code>for (let i = 0; i &lt; ${int(1000)}; i++) {\n  ${pick(WORDS)}.${pick(WORDS)}(i);\n}\n</code></pre>\n`;
    body += para();
    body += `<p>See <a href="https://example.com/${pick(WORDS)}" rel="nofollow noreferrer">${words(2)}</a> &amp; ${words(5)}.</p>\n`;
    const ntags = 1 + int(5);
    const tags = [];
    while (tags.length < ntags) {
      const t = pick(TAGS);
      if (!tags.includes(t)) tags.push(t);
    }
    const created = 1217540572 + int(500000000);
    const userId = 1 + int(20000000);
    const answered = rnd() < 0.7;
    const doc = {
      _id: `${prefix}${String(i).padStart(8, '0')}`,
      type: 'question',
      question_id: i + 1,
      title,
      body,
      tags,
      owner: {
        user_id: userId,
        display_name: `${pick(NAMES)}_${int(10000)}`,
        reputation: int(500000),
        accept_rate: int(101),
        user_type: 'registered',
        profile_image: `https://www.gravatar.com/avatar/${int(2 ** 32).toString(16).padStart(8, '0')}${int(2 ** 32).toString(16).padStart(8, '0')}?s=256&d=identicon&r=PG`,
        link: `https://stackoverflow.com/users/${userId}`,
      },
      is_answered: answered,
      view_count: int(2000000),
      answer_count: answered ? 1 + int(30) : 0,
      favorite_count: int(500),
      score: int(3000) - 100,
      creation_date: created,
      last_activity_date: created + int(100000000),
      last_edit_date: rnd() < 0.5 ? created + int(1000000) : null,
      content_license: 'CC BY-SA 4.0',
      link: `https://stackoverflow.com/questions/${i + 1}`,
    };
    if (answered && rnd() < 0.8) doc.accepted_answer_id = i * 10 + 7;
    return JSON.stringify(doc);
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2]);
  const file = process.argv[3];
  const seed = Number(process.argv[4] ?? 42);
  if (!Number.isInteger(n) || n <= 0 || !file) {
    console.error('usage: node docs.mjs N FILE [SEED]');
    process.exit(2);
  }
  const gen = makeGenerator(seed);
  const out = createWriteStream(file);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const s = gen(i) + '\n';
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await new Promise((r) => out.once('drain', r));
  }
  out.end();
  await new Promise((r) => out.on('finish', r));
  console.log(JSON.stringify({ docs: n, bytes, avg_bytes: Math.round(bytes / n) }));
}
