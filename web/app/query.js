// The dashboard's list logic, free of the DOM so that node can test it:
// the URL hash <-> query, which questions a query shows, in what order, and
// the counts of the three lists.

export const VIEWS = ['unassigned', 'mine', 'all'];
export const SORTS = ['created', 'activity'];
export const DEFAULT_QUERY = { view: 'unassigned', rejected: false, answered: false, tag: '', q: '', sort: 'created' };

// "#/list?view=mine&tag=php" -> { route: 'list', query }; "#/q/123" -> { route: 'question', id }.
export function parseHash(hash) {
  const text = (hash || '').replace(/^#/, '');
  const [path, search = ''] = text.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'q' && parts[1]) return { route: 'question', id: parts[1], query: parseQuery(search) };
  if (parts[0] === 'profile') return { route: 'profile', query: parseQuery(search) };
  if (parts[0] === 'ops') {
    const every = Number(new URLSearchParams(search).get('every'));
    return { route: 'ops', query: parseQuery(''), every: every >= 200 ? every : 5000 };
  }
  return { route: 'list', query: parseQuery(search) };
}

function parseQuery(search) {
  const p = new URLSearchParams(search);
  const query = { ...DEFAULT_QUERY };
  if (VIEWS.includes(p.get('view'))) query.view = p.get('view');
  if (SORTS.includes(p.get('sort'))) query.sort = p.get('sort');
  query.rejected = p.get('rejected') === '1';
  query.answered = p.get('answered') === '1';
  query.tag = (p.get('tag') || '').trim();
  query.q = p.get('q') || '';
  return query;
}

// The hash of a list query; only what differs from the defaults is written.
export function listHash(query) {
  const p = new URLSearchParams();
  for (const key of ['view', 'sort', 'tag', 'q']) {
    if (query[key] && query[key] !== DEFAULT_QUERY[key]) p.set(key, query[key]);
  }
  if (query.rejected) p.set('rejected', '1');
  if (query.answered) p.set('answered', '1');
  const s = p.toString();
  return s ? `#/list?${s}` : '#/list';
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

// Stack Exchange keeps HTML entities in titles; search sees the characters.
export function decodeEntities(text) {
  return String(text || '').replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

// Lowercase title, body text and tags: what free-text search looks in.
export function searchText(doc) {
  const q = doc.question || {};
  const body = String(q.body || '').replace(/<[^>]*>/g, ' ');
  return decodeEntities(`${q.title || ''} ${body} ${(q.tags || []).join(' ')} ${(doc.custom_tags || []).join(' ')}`)
    .toLowerCase();
}

export function isQuestion(doc) {
  return doc && doc.type === 'question' && doc.question && typeof doc.question === 'object';
}

function created(doc) {
  return Number(doc.question.creation_date) || 0;
}

function activity(doc) {
  const triage = Math.max(
    ...['assigned_at', 'answered_at', 'rejected_at', 'reopened_at', 'updated_at']
      .map((k) => (doc[k] ? Date.parse(doc[k]) / 1000 : 0))
      .filter(Number.isFinite),
    ...(doc.notes || []).map((n) => Date.parse(n.at) / 1000 || 0),
  );
  return Math.max(Number(doc.question.last_activity_date) || 0, created(doc), triage);
}

// Everything but the list choice: toggles, tag and search.
function matchesFilters(doc, query, terms, text) {
  if (!query.rejected && doc.rejected) return false;
  if (!query.answered && doc.answered) return false;
  if (query.tag) {
    const tag = query.tag.toLowerCase();
    const tags = [...(doc.question.tags || []), ...(doc.custom_tags || [])].map((t) => String(t).toLowerCase());
    if (!tags.includes(tag)) return false;
  }
  for (const term of terms) if (!text(doc).includes(term)) return false;
  return true;
}

function inView(doc, view, me) {
  if (view === 'unassigned') return !doc.owner;
  if (view === 'mine') return doc.owner === me;
  return true;
}

// `questions`: documents sorted by `sort` (creation or activity), newest
// first; ties by id.
export function sortQuestions(questions, sort) {
  const key = sort === 'activity' ? activity : created;
  const keyed = Array.from(questions, (doc) => [key(doc), doc]);
  keyed.sort((a, b) => b[0] - a[0] || (a[1]._id < b[1]._id ? -1 : a[1]._id > b[1]._id ? 1 : 0));
  return keyed.map((k) => k[1]);
}

// `questions`: an iterable of question documents. `text(doc)` gives the
// search text (callers cache it). Returns { items, counts, matched }: the
// sorted documents of query.view, how many each list would show with the
// same filters, and every document that passed the filters in any list
// (a narrower search can start from those: see narrows()). `presorted`:
// `questions` is already in sortQuestions(…, query.sort) order, which the
// results keep, so a keystroke costs one pass and no sort.
export function runQuery(questions, query, me, text = searchText, presorted = false) {
  const terms = query.q.toLowerCase().split(/\s+/).filter(Boolean);
  const counts = { unassigned: 0, mine: 0, all: 0 };
  const items = [];
  const matched = [];
  for (const doc of questions) {
    if (!matchesFilters(doc, query, terms, text)) continue;
    matched.push(doc);
    counts.all++;
    if (!doc.owner) counts.unassigned++;
    if (doc.owner === me) counts.mine++;
    if (inView(doc, query.view, me)) items.push(doc);
  }
  return { items: presorted ? items : sortQuestions(items, query.sort), counts, matched };
}

// True when every document `next` can match also matched `previous`: the
// same toggles and tag, and a search that only grew at its end (typing
// "repl" after "rep"). Then `next` needs to look only at what matched.
export function narrows(previous, next) {
  return previous.rejected === next.rejected && previous.answered === next.answered && previous.tag === next.tag
    && next.q.toLowerCase().startsWith(previous.q.toLowerCase());
}

// Every tag in use, SO's and custom, with how many questions carry it, most used first.
export function tagCounts(questions) {
  const counts = new Map();
  for (const doc of questions) {
    for (const t of new Set([...(doc.question.tags || []), ...(doc.custom_tags || [])])) {
      counts.set(t, (counts.get(t) || 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

// Users ranked for assigning `doc`: those whose profile custom tags meet the
// question's tags first (with the tags that matched), then the others by name.
export function suggestAssignees(doc, users) {
  const tags = new Set([...(doc.question.tags || []), ...(doc.custom_tags || [])]);
  return [...users]
    .map((u) => ({ name: u.name, display: u.display_name || u.name, matches: (u.custom_tags || []).filter((t) => tags.has(t)) }))
    .sort((a, b) => b.matches.length - a.matches.length || a.name.localeCompare(b.name));
}

// Resolves concurrent edits of one question field by field (issue F, "no
// lost updates"): notes and custom tags are unions; each triage group
// (assignment, answered, rejected) comes from the revision that changed it
// last (each change, a reopen included, stamps its group's `*_at`); the
// Stack Exchange object and status come from `winner`. A custom tag removed
// on one side and kept on the other is kept.
export function mergeQuestion(winner, others) {
  const merged = { ...winner };
  const all = [winner, ...others];
  const groups = {
    assigned: ['owner', 'assigned_at', 'assigned_by'],
    answered: ['answered', 'answered_at', 'answered_by'],
    rejected: ['rejected', 'rejected_at', 'rejected_by'],
  };
  const stamp = { assigned: 'assigned_at', answered: 'answered_at', rejected: 'rejected_at' };
  for (const [group, fields] of Object.entries(groups)) {
    let best = winner;
    for (const doc of others) if ((doc[stamp[group]] || '') > (best[stamp[group]] || '')) best = doc;
    for (const f of fields) if (f in best) merged[f] = best[f]; else delete merged[f];
  }
  const seen = new Map();
  for (const doc of all) for (const n of doc.notes || []) seen.set(`${n.author}\u0000${n.at}\u0000${n.text}`, n);
  merged.notes = [...seen.values()].sort((a, b) => String(a.at).localeCompare(String(b.at)));
  merged.custom_tags = [...new Set(all.flatMap((d) => d.custom_tags || []))].sort();
  return merged;
}
