// The triage dashboard: routing by URL hash, the login, list, question and
// profile views, and keyboard navigation. Data lives in data.js; list logic
// in query.js. Text from questions and notes is only ever set as text, and
// question bodies go through DOMPurify, so no HTML from Stack Overflow or a
// colleague runs here.
import { Store, currentUser, isAdmin, login, redeemSlackLink } from './data.js';
import { showOps } from './ops.js';
import {
  DEFAULT_QUERY, VIEWS, decodeEntities, listHash, narrows, parseHash, runQuery, sortQuestions, suggestAssignees,
  tagCounts,
} from './query.js';

const PAGE_SIZE = 50;
const main = document.getElementById('main');
const viewsNav = document.getElementById('views');
const badge = document.getElementById('sync-badge');
const userMenu = document.getElementById('user-menu');
const toast = document.getElementById('toast');

let store = null;
let route = parseHash(location.hash);
let lastListHash = '#/list';
let page = 0;
let listShell = null;   // the list view's persistent parts while it is shown
let questionShell = null;
let stopOps = null;     // stops the operations page's sampling while it is shown

// --- small DOM helpers: children are text unless they are nodes ------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

// Intl formatters are costly to make: one each, reused (toLocaleString()
// would make one per call, hundreds per keystroke).
const numberFormat = new Intl.NumberFormat();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const num = (n) => numberFormat.format(n);

function plural(n, word) {
  return `${num(Number(n))} ${word}${n === 1 ? '' : 's'}`;
}

function kbd(key) {
  return h('kbd', { 'aria-hidden': 'true' }, key);
}

function showToast(message) {
  toast.textContent = message;
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { toast.hidden = true; }, 5000);
}

function ago(date) {
  const ms = date instanceof Date ? date.getTime() : Number(date) * 1000;
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return 'just now';
  const units = [[60, 'min'], [3600, 'h'], [86400, 'd'], [2592000, 'mo'], [31536000, 'y']];
  let label = '';
  for (const [size, name] of units) if (s >= size) label = `${Math.floor(s / size)} ${name} ago`;
  return label;
}

function time(date) {
  const d = date instanceof Date ? date : new Date(Number(date) * 1000);
  if (Number.isNaN(d.getTime())) return h('time', {}, 'at an unknown time');
  return h('time', { datetime: d.toISOString(), title: dateFormat.format(d) }, ago(d));
}

// Only web links leave the app: a stored `link` could say `javascript:`.
function webUrl(text) {
  try {
    const url = new URL(String(text));
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch (e) {
    return null;
  }
}

function title(doc) {
  return decodeEntities(doc.question.title || `Question ${doc._id}`);
}

function displayName(name) {
  const user = store?.users.get(name);
  return (user && user.display_name) || name;
}

// Re-renders with `render()` and puts focus back on the element that had it
// (matched by data-key), so live updates never throw a keyboard user out.
function keepFocus(render) {
  const key = document.activeElement?.dataset?.key;
  render();
  if (key) document.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

// --- login ------------------------------------------------------------------

function renderLogin(message) {
  viewsNav.hidden = true;
  userMenu.hidden = true;
  badge.hidden = true;
  listShell = questionShell = null;
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' }, message || '');
  const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    class: 'card login', 'aria-labelledby': 'login-title',
    onsubmit: async (e) => {
      e.preventDefault();
      submit.disabled = true;
      error.textContent = '';
      try {
        await start(await login(name.value.trim(), password.value));
      } catch (err) {
        error.textContent = err.status === 401 ? 'Wrong name or password.' : err.message;
        submit.disabled = false;
        password.select();
      }
    },
  },
  h('h1', { id: 'login-title' }, 'Sign in'),
  h('p', { class: 'muted' }, 'Triage Stack Overflow questions with your team.'),
  h('label', { for: 'login-name' }, 'Name'), name,
  h('label', { for: 'login-password' }, 'Password'), password,
  error, submit);
  main.replaceChildren(form);
  name.focus();
}

// --- the top bar -----------------------------------------------------------

// `counts`: those of the list being shown; elsewhere, those of the last list.
function renderTopbar(counts) {
  viewsNav.hidden = false;
  const query = route.route === 'list' ? route.query : parseHash(lastListHash).query;
  if (!counts) counts = runQuery(store.questions.values(), query, store.user, (d) => store.text(d)).counts;
  viewsNav.replaceChildren(...VIEWS.map((view) => {
    const current = route.route === 'list' && query.view === view;
    const label = { unassigned: 'Unassigned', mine: 'Mine', all: 'All' }[view];
    return h('a', {
      href: listHash({ ...query, view }), class: 'tab', 'aria-current': current ? 'page' : false, 'data-key': `tab-${view}`,
    }, label, h('span', { class: 'count', 'data-count': view }, num(counts[view])));
  }));
  userMenu.hidden = false;
  userMenu.replaceChildren(
    isAdmin() ? h('a', { href: '#/ops', class: 'ops-link', 'aria-current': route.route === 'ops' ? 'page' : false }, 'Operations') : '',
    h('a', { href: '#/profile', class: 'user', title: 'Your profile' }, displayName(store.user)),
    h('button', { type: 'button', class: 'ghost', onclick: logout }, 'Log out'),
  );
}

function renderBadge() {
  const labels = {
    connecting: 'Connecting…', syncing: 'Syncing…', online: 'Live', offline: 'Offline', denied: 'Signed out',
  };
  badge.hidden = false;
  badge.dataset.state = store.status;
  badge.textContent = labels[store.status] || store.status;
  badge.title = store.status === 'offline'
    ? 'No connection to the server. Your changes are kept here and sync when it returns.' : '';
}

// --- the list ---------------------------------------------------------------

function buildListShell() {
  const search = h('input', {
    type: 'search', id: 'search', placeholder: 'Search title, body, tags', 'aria-label': 'Search questions',
    autocomplete: 'off', oninput: () => setQuery({ q: search.value }, { soon: true }),
  });
  const tag = h('input', {
    id: 'tag-filter', list: 'tag-options', placeholder: 'Any tag', 'aria-label': 'Filter by tag', autocomplete: 'off',
    onchange: () => setQuery({ tag: tag.value.trim() }),
  });
  const tagOptions = h('datalist', { id: 'tag-options' });
  const sort = h('select', { id: 'sort', 'aria-label': 'Sort by', onchange: () => setQuery({ sort: sort.value }) },
    h('option', { value: 'created' }, 'Newest'), h('option', { value: 'activity' }, 'Recent activity'));
  const toggle = (key, label) => {
    const box = h('input', { type: 'checkbox', id: `show-${key}`, onchange: () => setQuery({ [key]: box.checked }) });
    return [box, h('label', { for: `show-${key}`, class: 'toggle' }, box, label)];
  };
  const [rejected, rejectedLabel] = toggle('rejected', 'Rejected');
  const [answered, answeredLabel] = toggle('answered', 'Answered');
  const summary = h('p', { class: 'summary', id: 'summary', 'aria-live': 'polite' });
  const list = h('ol', { class: 'qlist', id: 'qlist', 'aria-label': 'Questions' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const toolbar = h('div', { class: 'toolbar', role: 'search' },
    h('div', { class: 'search-box' }, search, kbd('/')), h('div', { class: 'tag-box' }, tag, tagOptions), sort,
    h('div', { class: 'toggles' }, 'Show', rejectedLabel, answeredLabel));
  main.replaceChildren(h('section', { class: 'list-view', 'aria-label': 'Question list' }, toolbar, summary, list, pager,
    h('p', { class: 'hint' }, kbd('j'), ' ', kbd('k'), ' move  ', kbd('Enter'), ' open  ', kbd('/'), ' search')));
  return { search, tag, tagOptions, sort, rejected, answered, summary, list, pager, tagsVersion: -1 };
}

function setQuery(change, { soon = false } = {}) {
  route.query = { ...route.query, ...change };
  page = 0;
  lastListHash = listHash(route.query);
  // The URL follows once typing pauses: replaceState costs more than a redraw.
  clearTimeout(setQuery.timer);
  setQuery.timer = setTimeout(() => {
    if (route.route === 'list') history.replaceState(null, '', lastListHash);
  }, 250);
  if (soon) updateListSoon();
  else updateList();
}

function row(doc) {
  const q = doc.question;
  const pills = [];
  if (doc.answered) pills.push(h('span', { class: 'pill answered' }, 'answered'));
  if (doc.rejected) pills.push(h('span', { class: 'pill rejected' }, 'rejected'));
  if (doc.status === 'updated') pills.push(h('span', { class: 'pill updated' }, 'updated'));
  const tags = [...(q.tags || []).map((t) => h('span', { class: 'tag' }, t)),
    ...(doc.custom_tags || []).map((t) => h('span', { class: 'tag custom' }, t))];
  return h('li', { class: 'qrow' },
    h('a', { href: `#/q/${encodeURIComponent(doc._id)}`, class: 'qlink', 'data-key': `row-${doc._id}` },
      h('span', { class: 'qtitle' }, title(doc)), ...pills),
    h('div', { class: 'qmeta' },
      h('span', { class: 'stat' }, plural(q.score ?? 0, 'vote')),
      h('span', { class: 'stat' }, plural(q.answer_count ?? 0, 'answer')),
      h('span', {}, 'asked ', time(q.creation_date || 0), q.owner?.display_name ? ` by ${decodeEntities(q.owner.display_name)}` : ''),
      doc.owner ? h('span', { class: 'owner' }, '→ ', displayName(doc.owner)) : h('span', { class: 'owner none' }, 'unassigned'),
      (doc.notes || []).length ? h('span', { class: 'stat' }, plural(doc.notes.length, 'note')) : null,
      h('span', { class: 'tags' }, tags)));
}

// Every question in `sort` order; kept until the questions change.
function sortedQuestions(sort) {
  const cached = sortedQuestions.cache;
  if (cached && cached.store === store && cached.version === store.version && cached.sort === sort) return cached.docs;
  const docs = sortQuestions(store.questions.values(), sort);
  sortedQuestions.cache = { store, version: store.version, sort, docs };
  return docs;
}

// Keystrokes that come faster than frames draw the list once per frame,
// with the latest query.
function updateListSoon() {
  if (updateListSoon.pending) return;
  updateListSoon.pending = true;
  requestAnimationFrame(() => {
    updateListSoon.pending = false;
    updateList();
  });
}

function updateList() {
  if (!listShell) return;
  const s = listShell;
  const query = route.query;
  if (document.activeElement !== s.search) s.search.value = query.q;
  if (document.activeElement !== s.tag) s.tag.value = query.tag;
  s.sort.value = query.sort;
  s.rejected.checked = query.rejected;
  s.answered.checked = query.answered;

  // While the questions are unchanged, a search that only grew looks only
  // at what the last one matched. Either way the documents come in list
  // order, sorted once per change of the questions, not per keystroke.
  const last = s.lastRun;
  const source = last && last.version === store.version && last.query.sort === query.sort && narrows(last.query, query)
    ? last.matched : sortedQuestions(query.sort);
  const { items, counts, matched } = runQuery(source, query, store.user, (d) => store.text(d), true);
  s.lastRun = { version: store.version, query, matched };
  renderTopbar(counts);
  if (s.tagsVersion !== store.questions.size) {
    s.tagsVersion = store.questions.size;
    s.tagOptions.replaceChildren(...tagCounts(store.questions.values()).slice(0, 300)
      .map(([t, n]) => h('option', { value: t }, `${n}`)));
  }
  const pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE));
  page = Math.min(page, pages - 1);
  const shown = items.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  s.summary.replaceChildren(h('span', { class: 'badge count-badge', id: 'result-count' }, num(items.length)),
    items.length === 1 ? ' question' : ' questions');
  // Rows are rebuilt only when what they show changed.
  const signature = shown.map((d) => `${d._id}@${d._rev}`).join() + `|${store.users.size}`;
  keepFocus(() => {
    if (shown.length && signature === s.signature) {
      // the same rows: nothing to redraw
    } else if (shown.length) {
      s.list.replaceChildren(...shown.map(row));
    } else if (!store.synced && !store.localOnly && !store.bootstrapped) {
      s.list.replaceChildren(h('li', { class: 'empty' }, store.status === 'offline'
        ? 'Not synced yet: waiting for the connection to the server.' : 'Loading questions…'));
    } else {
      s.list.replaceChildren(h('li', { class: 'empty' }, 'No questions match.'));
    }
    s.signature = shown.length ? signature : '';
    s.pager.replaceChildren(...(pages > 1 ? [
      h('button', { type: 'button', disabled: page === 0, 'data-key': 'prev', onclick: () => { page--; updateList(); } }, '← Previous'),
      h('span', {}, `${num(page * PAGE_SIZE + 1)}–${num(page * PAGE_SIZE + shown.length)} of ${num(items.length)}`),
      h('button', { type: 'button', disabled: page >= pages - 1, 'data-key': 'next', onclick: () => { page++; updateList(); } }, 'Next →'),
    ] : []));
  });
}

function renderList() {
  questionShell = null;
  if (!listShell || !main.contains(listShell.list)) listShell = buildListShell();
  updateList();
}

// --- a question -------------------------------------------------------------

function sanitizedBody(html) {
  const body = h('div', { class: 'qbody' });
  body.innerHTML = window.DOMPurify.sanitize(String(html || ''), { USE_PROFILES: { html: true } });
  for (const a of body.querySelectorAll('a[href]')) {
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
  }
  return body;
}

async function act(promise, done) {
  try {
    await promise;
    if (done) showToast(done);
  } catch (e) {
    showToast(`Could not save: ${e.message}`);
  }
}

function buildQuestionShell(id) {
  const note = h('textarea', { id: 'note-text', rows: 3, placeholder: 'Add a note for the team…', 'aria-label': 'New note' });
  const noteForm = h('form', {
    class: 'note-form',
    onsubmit: (e) => {
      e.preventDefault();
      const text = note.value.trim();
      if (!text) return;
      note.value = '';
      act(store.addNote(id, text));
    },
  }, note, h('button', { type: 'submit', 'data-key': 'add-note' }, 'Add note'));
  note.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) noteForm.requestSubmit();
  });
  const tagInput = h('input', { id: 'custom-tag', list: 'custom-tag-options', placeholder: 'Add a tag', 'aria-label': 'New custom tag', autocomplete: 'off' });
  const tagForm = h('form', {
    class: 'inline-form',
    onsubmit: (e) => {
      e.preventDefault();
      const tag = tagInput.value.trim().toLowerCase();
      if (!tag) return;
      tagInput.value = '';
      act(store.addTag(id, tag));
    },
  }, tagInput, h('datalist', { id: 'custom-tag-options' }), h('button', { type: 'submit', 'data-key': 'add-tag' }, 'Add'));
  const header = h('div', { class: 'qhead' });
  const body = h('div');
  const notes = h('ol', { class: 'notes', 'aria-label': 'Notes' });
  const side = h('div', { class: 'panel-dynamic' });
  const tags = h('div', { class: 'chips' });
  const history = h('ol', { class: 'history', 'aria-label': 'History' });
  main.replaceChildren(h('article', { class: 'question-view', 'aria-labelledby': 'qtitle' },
    h('a', { href: lastListHash, class: 'back', 'data-key': 'back' }, '← Back to the list ', kbd('Esc')),
    header,
    h('div', { class: 'columns' },
      h('div', { class: 'primary-col' }, body,
        h('section', { class: 'card', 'aria-labelledby': 'notes-title' }, h('h2', { id: 'notes-title' }, 'Notes'), notes, noteForm)),
      h('aside', { class: 'side-col', 'aria-label': 'Triage' },
        h('section', { class: 'card' }, h('h2', {}, 'Triage'), side),
        h('section', { class: 'card' }, h('h2', {}, 'Custom tags'), tags, tagForm),
        h('section', { class: 'card' }, h('h2', {}, 'History'), history)))));
  return { id, header, body, notes, side, tags, history, note, tagInput, tagForm, bodyRev: null };
}

function updateQuestion() {
  const s = questionShell;
  const doc = store.questions.get(s.id);
  if (!doc) {
    s.header.replaceChildren(h('h1', { id: 'qtitle' }, store.synced ? 'No such question' : 'Loading…'));
    return;
  }
  const q = doc.question;
  const status = doc.rejected ? 'rejected' : doc.answered ? 'answered' : doc.owner ? 'assigned' : 'open';
  s.header.replaceChildren(
    h('h1', { id: 'qtitle' }, title(doc)),
    h('p', { class: 'qmeta' },
      h('span', { class: `pill status ${status}` }, status),
      doc.status === 'updated' ? h('span', { class: 'pill updated' }, 'updated on SO') : null,
      h('span', {}, 'asked ', time(q.creation_date || 0), q.owner?.display_name ? ` by ${decodeEntities(q.owner.display_name)}` : ''),
      h('span', { class: 'stat' }, plural(q.score ?? 0, 'vote')), h('span', { class: 'stat' }, plural(q.answer_count ?? 0, 'answer')),
      webUrl(q.link) ? h('a', { href: webUrl(q.link), target: '_blank', rel: 'noopener noreferrer', class: 'so-link' }, 'Open on Stack Overflow ↗') : null),
    h('p', { class: 'tags' }, (q.tags || []).map((t) => h('a', { class: 'tag', href: listHash({ ...DEFAULT_QUERY, view: 'all', tag: t }) }, t))));
  if (s.bodyRev !== q.body) {
    s.bodyRev = q.body;
    s.body.replaceChildren(sanitizedBody(q.body));
  }

  keepFocus(() => {
    const id = s.id;
    const owner = doc.owner
      ? h('p', { class: 'owner-line' }, 'Owner: ', h('strong', { id: 'owner-name' }, displayName(doc.owner)),
        doc.assigned_by && doc.assigned_by !== doc.owner ? ` (by ${displayName(doc.assigned_by)})` : '')
      : h('p', { class: 'owner-line' }, h('strong', { id: 'owner-name' }, 'Unassigned'));
    const choices = suggestAssignees(doc, new Set([...store.users.values(), { name: store.user }].filter((u, i, all) => all.findIndex((v) => v.name === u.name) === i)));
    const select = h('select', { id: 'assignee', 'aria-label': 'Assign to', 'data-key': 'assignee' },
      choices.map((c) => h('option', { value: c.name, selected: c.name === doc.owner },
        c.matches.length ? `${c.display} — knows ${c.matches.join(', ')}` : c.display)));
    const button = (label, key, onclick, extra = {}) => h('button', { type: 'button', 'data-key': key, onclick, ...extra }, label, ' ', kbd(key));
    const closed = doc.answered || doc.rejected;
    s.side.replaceChildren(...[owner,
      h('div', { class: 'assign-row' }, select,
        h('button', { type: 'button', 'data-key': 'assign-to', onclick: () => act(store.assign(id, select.value), `Assigned to ${displayName(select.value)}`) }, 'Assign')),
      h('div', { class: 'actions' },
        doc.owner !== store.user ? button('Take it', 'a', () => act(store.assign(id, store.user), 'Assigned to you'), { class: 'primary' }) : null,
        doc.owner ? button('Unassign', 'u', () => act(store.unassign(id), 'Unassigned')) : null,
        !doc.answered ? button('Answered', 'd', () => act(store.answer(id), 'Marked answered'), { class: 'good' }) : null,
        !doc.rejected ? button('Reject', 'x', () => act(store.reject(id), 'Rejected'), { class: 'danger' }) : null,
        closed ? button('Reopen', 'o', () => act(store.reopen(id), 'Reopened')) : null),
      doc.answered ? h('p', { class: 'muted' }, `Answered by ${displayName(doc.answered_by)} `, time(new Date(doc.answered_at))) : null,
      doc.rejected ? h('p', { class: 'muted' }, `Rejected by ${displayName(doc.rejected_by)} `, time(new Date(doc.rejected_at))) : null,
    ].filter(Boolean));

    s.tags.replaceChildren(...(doc.custom_tags || []).map((t) => h('span', { class: 'tag custom' }, t,
      h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove tag ${t}`, 'data-key': `untag-${t}`, onclick: () => act(store.removeTag(id, t)) }, '×'))));
    const known = new Set([...store.questions.values()].flatMap((d) => d.custom_tags || []));
    for (const u of store.users.values()) for (const t of u.custom_tags || []) known.add(t);
    s.tagForm.querySelector('datalist').replaceChildren(...[...known].sort().map((t) => h('option', { value: t })));
  });

  s.notes.replaceChildren(...((doc.notes || []).length ? doc.notes.map((n) => h('li', { class: 'note' },
    h('p', { class: 'note-meta' }, h('strong', {}, displayName(n.author)), ' · ', time(new Date(n.at))),
    h('p', { class: 'note-text' }, n.text))) : [h('li', { class: 'empty' }, 'No notes yet.')]));
  const events = store.events.get(s.id) || [];
  const describe = (e) => ({
    assign: `assigned it to ${displayName(e.owner)}`, unassign: 'unassigned it', answer: 'marked it answered',
    reject: 'rejected it', reopen: 'reopened it', note: 'added a note', tag: `tagged it ${e.tag}`, untag: `removed the tag ${e.tag}`,
  }[e.action] || e.action);
  s.history.replaceChildren(...(events.length ? events.slice().reverse().map((e) => h('li', {},
    h('strong', {}, displayName(e.user)), ` ${describe(e)} `, time(new Date(e.at)))) : [h('li', { class: 'empty' }, 'Nothing yet.')]));
}

function renderQuestion(id) {
  listShell = null;
  if (!questionShell || questionShell.id !== id || !main.contains(questionShell.header)) {
    questionShell = buildQuestionShell(id);
    updateQuestion();
    main.focus();
  } else {
    updateQuestion();
  }
  renderTopbar(null);
}

// --- profile ----------------------------------------------------------------

function renderProfile() {
  listShell = questionShell = null;
  renderTopbar(null);
  const p = store.profile();
  const display = h('input', { id: 'display-name', value: p.display_name || '' });
  const so = h('input', { id: 'so-id', inputmode: 'numeric', pattern: '[0-9]*', value: p.so_user_id || '' });
  const tags = h('input', { id: 'profile-tags', value: (p.custom_tags || []).join(', '), placeholder: 'php, ibm-cloud, couchdb' });
  main.replaceChildren(h('form', {
    class: 'card profile', 'aria-labelledby': 'profile-title',
    onsubmit: (e) => {
      e.preventDefault();
      act(store.saveProfile({
        display_name: display.value.trim(),
        so_user_id: so.value.trim(),
        custom_tags: [...new Set(tags.value.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))].sort(),
      }), 'Profile saved');
    },
  }, h('h1', { id: 'profile-title' }, 'Your profile'),
  h('p', { class: 'muted' }, `Signed in as ${store.user}. Your tags put you first when a matching question is assigned.`),
  h('label', { for: 'display-name' }, 'Display name'), display,
  h('label', { for: 'so-id' }, 'Stack Overflow user id'), so,
  h('label', { for: 'profile-tags' }, 'Tags you know (comma separated)'), tags,
  h('button', { type: 'submit', class: 'primary' }, 'Save')));
  display.focus();
}

// --- routing and keys -------------------------------------------------------

let scheduled = false;
function renderOps() {
  listShell = questionShell = null;
  renderTopbar();
  if (!isAdmin()) {
    main.replaceChildren(h('p', { class: 'card error' }, 'The operations page is for server admins.'));
    return;
  }
  stopOps = showOps(main, h, { every: route.every });
}

function render() {
  if (!store) return;
  if (stopOps) {
    stopOps();
    stopOps = null;
  }
  renderBadge();
  if (route.route === 'ops') renderOps();
  else if (route.route === 'question') renderQuestion(route.id);
  else if (route.route === 'profile') renderProfile();
  else renderList();
}

// Live changes redraw on the next frame; during the first sync, when
// thousands arrive, at most every 250 ms so the sync keeps the CPU.
function scheduleRender() {
  if (scheduled) return;
  scheduled = true;
  const frame = store && !store.synced ? (fn) => setTimeout(() => requestAnimationFrame(fn), 250) : requestAnimationFrame;
  frame(() => {
    scheduled = false;
    if (!store) return;
    renderBadge();
    if (route.route === 'list') updateList();
    else if (route.route === 'question' && questionShell) updateQuestion();
  });
}

window.addEventListener('hashchange', () => {
  const slack = /^#\/slack\/([^/?]+)/.exec(location.hash);
  if (slack) {
    slackSignIn(decodeURIComponent(slack[1]));
    return;
  }
  route = parseHash(location.hash);
  if (route.route === 'list') {
    lastListHash = listHash(route.query);
    page = 0;
  }
  render();
});

function typing(target) {
  return target.closest('input, textarea, select, [contenteditable]');
}

document.addEventListener('keydown', (e) => {
  if (!store || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape') {
    if (typing(e.target)) e.target.blur();
    else if (route.route !== 'list') location.hash = lastListHash;
    return;
  }
  if (typing(e.target)) return;
  if (route.route === 'list') {
    const links = [...document.querySelectorAll('.qlink')];
    const at = links.indexOf(document.activeElement);
    if (e.key === '/') {
      e.preventDefault();
      listShell?.search.focus();
    } else if (e.key === 'j' || e.key === 'ArrowDown') {
      e.preventDefault();
      links[Math.min(at + 1, links.length - 1)]?.focus();
    } else if (e.key === 'k' || e.key === 'ArrowUp') {
      e.preventDefault();
      links[Math.max(at - 1, 0)]?.focus();
    }
  } else if (route.route === 'question') {
    if (e.key === 'n') {
      e.preventDefault();
      questionShell?.note.focus();
    } else if (e.key === 't') {
      e.preventDefault();
      questionShell?.tagInput.focus();
    } else {
      const button = document.querySelector(`.actions button[data-key="${CSS.escape(e.key)}"]`);
      if (button) {
        e.preventDefault();
        button.click();
      }
    }
  }
});

async function logout() {
  const s = store;
  store = null;
  await s.logout();
  renderLogin('You are signed out. This browser no longer holds the team\'s data.');
}

async function start(user) {
  store = new Store(user);
  store.addEventListener('change', scheduleRender);
  store.addEventListener('status', scheduleRender);
  store.addEventListener('problem', () => showToast(store.conflict));
  store.addEventListener('unauthorized', async () => {
    const s = store;
    store = null;
    await s.close();
    renderLogin('Your session has ended. Sign in again to keep syncing.');
  });
  await store.open();
  if (route.route === 'list') lastListHash = listHash(route.query);
  render();
}

// A Slack sign-in link opens the app at #/slack/TOKEN. The token leaves the
// address bar at once (so it is neither bookmarked nor shared), then is
// redeemed for a session.
async function slackSignIn(token) {
  history.replaceState(null, '', '#/list');
  route = parseHash(location.hash);
  if (store) {
    const s = store;
    store = null;
    await s.close();
  }
  let user = null;
  try {
    user = await redeemSlackLink(token);
    if (!user) throw new Error('The sign-in link did not start a session.');
  } catch (e) {
    // A spent link leaves whoever is already signed in on this browser signed in.
    const current = await currentUser().catch(() => null);
    if (!current) {
      renderLogin(e.message);
      return;
    }
    user = current;
    showToast(e.message);
  }
  await start(user);
}

async function boot() {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
  const slack = /^#\/slack\/([^/?]+)/.exec(location.hash);
  if (slack) return slackSignIn(decodeURIComponent(slack[1]));
  try {
    const user = await currentUser();
    if (user) await start(user);
    else renderLogin();
  } catch (e) {
    renderLogin(e.message);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
