// The dashboard's data: the session with wisp's store, the local PouchDB
// copies of `questions` and `events`, their live two-way sync, and every
// write a triage makes. Views read the in-memory maps and listen for
// 'change' and 'status' events; nothing here touches the DOM.
import { isQuestion, mergeQuestion, searchText } from './query.js';

// The store under the page's own origin (wisp serves it under /db), so the
// session cookie goes along with no CORS at all.
export const REMOTE = new URL('db/', document.baseURI).href;
const USER_KEY = 'wisp.user';

async function call(path, options = {}) {
  let res;
  try {
    res = await fetch(REMOTE + path, { credentials: 'include', ...options });
  } catch (e) {
    const error = new Error('Cannot reach the server.');
    error.offline = true;
    throw error;
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(body.reason || `The server answered ${res.status}.`);
    error.status = res.status;
    throw error;
  }
  return body;
}

// The user of the current session, or null. Offline, the user who last
// logged in on this browser (their local copy is still here).
export async function currentUser() {
  try {
    const session = await call('_session');
    const name = session.userCtx && session.userCtx.name;
    sessionRoles = (session.userCtx && session.userCtx.roles) || [];
    if (name) localStorage.setItem(USER_KEY, name);
    else localStorage.removeItem(USER_KEY);
    return name || null;
  } catch (e) {
    if (e.offline) return localStorage.getItem(USER_KEY);
    throw e;
  }
}

// The roles of the session's user, as `_session` last said (empty offline).
let sessionRoles = [];
export function isAdmin() {
  return sessionRoles.includes('_admin');
}

// Redeems a one-time Slack sign-in link (POST /slack/redeem): the server
// sets the same AuthSession cookie a password gives. Then the session says
// who we are. A link that is not valid, used or expired throws its reason.
export async function redeemSlackLink(token) {
  let res;
  try {
    res = await fetch(new URL('slack/redeem', document.baseURI).href, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
  } catch (e) {
    throw new Error('Cannot reach the server to use the sign-in link.');
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.reason || `The server answered ${res.status}.`);
  return currentUser();
}

export async function login(name, password) {
  const body = await call('_session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });
  localStorage.setItem(USER_KEY, body.name);
  sessionRoles = body.roles || [];
  return body.name;
}

function now() {
  return new Date().toISOString();
}

// Reconnect delays: 1 s doubling to 30 s, so a dead link costs little and a
// live one comes back fast (the 'online' event restarts at once).
function backOff(delay) {
  return delay === 0 ? 1000 : Math.min(delay * 2, 30000);
}

export class Store extends EventTarget {
  constructor(user) {
    super();
    this.user = user;
    this.questions = new Map();   // id -> question document
    this.users = new Map();       // name -> user document (type "user")
    this.events = new Map();      // question id -> [event], oldest first
    this.texts = new WeakMap();   // document -> its search text
    this.synced = false;          // the first pull finished
    this.status = 'connecting';   // connecting | syncing | online | offline | denied
    this.conflict = null;         // the last conflict that could not be resolved
    this.states = {};             // database -> syncing | online | offline
    this.syncs = [];
  }

  async open() {
    const name = (db) => `wisp-${encodeURIComponent(this.user)}-${db}`;
    this.localQuestions = new PouchDB(name('questions'), { auto_compaction: true });
    this.localEvents = new PouchDB(name('events'), { auto_compaction: true });
    const remote = (db) => new PouchDB(REMOTE + db, {
      skip_setup: true,
      fetch: (url, opts) => PouchDB.fetch(url, { ...opts, credentials: 'include' }),
    });
    this.remoteQuestions = remote('questions');
    this.remoteEvents = remote('events');

    const [questions, events] = await Promise.all([
      this.localQuestions.allDocs({ include_docs: true, conflicts: true }),
      this.localEvents.allDocs({ include_docs: true }),
    ]);
    for (const row of questions.rows) this.apply(row.doc);
    for (const row of events.rows) this.applyEvent(row.doc);
    this.localOnly = questions.rows.length > 0;
    if (this.localOnly) this.warmTexts();

    this.feeds = [
      this.localQuestions.changes({ since: 'now', live: true, include_docs: true, conflicts: true })
        .on('change', (c) => { this.apply(c.doc, c.deleted); this.emit('change'); }),
      this.localEvents.changes({ since: 'now', live: true, include_docs: true })
        .on('change', (c) => { if (!c.deleted) this.applyEvent(c.doc); this.emit('change'); }),
    ];
    this.onOnline = () => { if (this.syncs.length) this.restartSync(); };
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', () => this.setStatus('offline'));
    // A first visit reads everything once before replication starts, so the
    // two do not fight over the CPU while the list is first drawn.
    if (this.localOnly) this.startSync();
    else this.bootstrap().finally(() => { if (!this.closed) this.startSync(); });
  }

  // A first visit shows the questions from `_all_docs` reads, page by page,
  // before replication fills the local copy (writing thousands of documents
  // into IndexedDB takes far longer than reading them). Pages go from the
  // highest id down: Stack Overflow ids grow with time, so the first page
  // already holds the newest questions, which the default list shows.
  async bootstrap() {
    const pageSize = 2000;
    let startkey = null;
    try {
      for (;;) {
        const from = startkey === null ? '' : `&skip=1&startkey=${encodeURIComponent(JSON.stringify(startkey))}`;
        const res = await fetch(`${REMOTE}questions/_all_docs?include_docs=true&descending=true&limit=${pageSize}${from}`,
          { credentials: 'include' });
        if (!res.ok || this.closed) return;
        const { rows } = await res.json();
        for (const row of rows) if (row.doc && !this.questions.has(row.id)) this.apply(row.doc);
        this.bootstrapped = true;
        this.emit('change');
        if (rows.length < pageSize) break;
        startkey = rows[rows.length - 1].id;
      }
      this.warmTexts();
    } catch (e) {
      // Offline: the list says it has not synced yet, and sync retries.
    }
  }

  emit(type) {
    this.dispatchEvent(new Event(type));
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit('status');
  }

  apply(doc, deleted = false) {
    if (!doc) return;
    this.version = (this.version || 0) + 1;  // the list's caches go stale
    if (deleted || doc._deleted) {
      this.questions.delete(doc._id);
      return;
    }
    if (doc.type === 'user' && doc.name) this.users.set(doc.name, doc);
    if (!isQuestion(doc)) return;
    this.questions.set(doc._id, doc);
    if (doc._conflicts && doc._conflicts.length) this.resolve(doc._id);
  }

  applyEvent(doc) {
    if (!doc || doc.type !== 'event' || !doc.question_id) return;
    const list = this.events.get(doc.question_id) || [];
    if (list.some((e) => e._id === doc._id)) return;
    list.push(doc);
    list.sort((a, b) => String(a.at).localeCompare(String(b.at)));
    this.events.set(doc.question_id, list);
  }

  // Computes the search text of every question in idle moments, so the
  // first keystroke of a search does not pay for thousands at once.
  warmTexts() {
    const docs = [...this.questions.values()];
    let i = 0;
    const step = (deadline) => {
      const end = i + 500;
      while (i < docs.length && (deadline ? deadline.timeRemaining() > 2 : i < end)) this.text(docs[i++]);
      if (i < docs.length) idle(step);
    };
    const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 0));
    idle(step);
  }

  text(doc) {
    let t = this.texts.get(doc);
    if (t === undefined) {
      t = searchText(doc);
      this.texts.set(doc, t);
    }
    return t;
  }

  // Each database's sync has its own state; the badge shows the worst:
  // offline if either failed, syncing while either works, live when both
  // have caught up.
  syncState(name, state) {
    this.states[name] = state;
    const all = Object.values(this.states);
    if (all.includes('offline') || !navigator.onLine) this.setStatus('offline');
    else if (all.includes('syncing')) this.setStatus('syncing');
    else this.setStatus('online');
  }

  startSync() {
    const options = { live: true, retry: true, batch_size: 500, back_off_function: backOff };
    this.states = { questions: 'syncing', events: 'syncing' };
    this.setStatus(navigator.onLine ? 'syncing' : 'offline');
    for (const [name, local, remote] of [['questions', this.localQuestions, this.remoteQuestions],
      ['events', this.localEvents, this.remoteEvents]]) {
      const sync = local.sync(remote, options);
      // A server that cannot be reached (stopped, or the network cut short
      // of this machine) shows only on each direction's own events: the
      // two-way sync's 'paused' carries no error. A direction fails on a
      // request error and is healthy again once it pauses without one.
      // These listeners go first, so they run before the sync's 'paused'.
      const failing = { pull: false, push: false };
      for (const direction of ['pull', 'push']) {
        sync[direction].on('requestError', () => {
          failing[direction] = true;
          this.syncState(name, 'offline');
        });
        sync[direction].on('paused', (err) => { failing[direction] = Boolean(err); });
      }
      // While the link is down, a retry that starts is not yet a sync.
      sync.on('active', () => { if (this.states[name] !== 'offline') this.syncState(name, 'syncing'); })
        .on('paused', (err) => {
          if (err || !navigator.onLine || failing.pull || failing.push) {
            this.syncState(name, 'offline');
            return;
          }
          this.syncState(name, 'online');
          if (!this.synced && Object.values(this.states).every((st) => st === 'online')) {
            this.synced = true;
            this.emit('change');
            // Everyone who has signed in once can be assigned questions.
            if (!this.users.has(this.user)) this.saveProfile({}).catch(() => {});
          }
        })
        .on('denied', (err) => this.showProblem(`The server refused a change: ${err.reason || err.message || err}`))
        .on('error', (err) => {
          if (err && (err.status === 401 || err.status === 403)) {
            this.setStatus('denied');
            this.emit('unauthorized');
          } else {
            this.syncState(name, 'offline');
          }
        });
      this.syncs.push(sync);
    }
  }

  restartSync() {
    for (const s of this.syncs) s.cancel();
    this.syncs = [];
    this.startSync();
  }

  showProblem(message) {
    this.conflict = message;
    this.emit('problem');
  }

  async close() {
    this.closed = true;
    window.removeEventListener('online', this.onOnline);
    for (const s of this.syncs) s.cancel();
    for (const f of this.feeds || []) f.cancel();
  }

  // Logs out: ends the session and removes every local copy from this browser.
  async logout() {
    await this.close();
    await call('_session', { method: 'DELETE' }).catch(() => {});
    localStorage.removeItem(USER_KEY);
    await Promise.all([this.localQuestions.destroy(), this.localEvents.destroy()]);
  }

  // Applies `change(doc)` to the current local revision, retrying when a
  // concurrent local write wins, then records `action` in `events`.
  async update(id, action, change, detail = {}) {
    for (let attempt = 0; attempt < 5; attempt++) {
      let doc;
      try {
        doc = await this.localQuestions.get(id);
      } catch (e) {
        if (e.status !== 404) throw e;
        // Shown from the first read but not replicated here yet: fetch it now.
        await this.localQuestions.replicate.from(this.remoteQuestions, { doc_ids: [id] });
        doc = await this.localQuestions.get(id);
      }
      change(doc);
      try {
        await this.localQuestions.put(doc);
        await this.localEvents.put({
          _id: `${now()}-${Math.random().toString(36).slice(2, 10)}`,
          type: 'event',
          question_id: id,
          action,
          user: this.user,
          at: now(),
          ...detail,
        });
        return;
      } catch (e) {
        if (e.status !== 409) throw e;
      }
    }
    throw new Error('The question kept changing; try again.');
  }

  assign(id, owner) {
    return this.update(id, 'assign', (d) => {
      d.owner = owner;
      d.assigned_at = now();
      d.assigned_by = this.user;
    }, { owner });
  }

  unassign(id) {
    return this.update(id, 'unassign', (d) => {
      d.owner = null;
      d.assigned_at = now();
      d.assigned_by = this.user;
    });
  }

  answer(id) {
    return this.update(id, 'answer', (d) => {
      d.answered = true;
      d.answered_at = now();
      d.answered_by = this.user;
    });
  }

  reject(id) {
    return this.update(id, 'reject', (d) => {
      d.rejected = true;
      d.rejected_at = now();
      d.rejected_by = this.user;
    });
  }

  reopen(id) {
    return this.update(id, 'reopen', (d) => {
      const at = now();
      d.answered = false;
      d.rejected = false;
      d.answered_at = d.rejected_at = d.reopened_at = at;
      d.answered_by = d.rejected_by = d.reopened_by = this.user;
    });
  }

  addNote(id, text) {
    const note = { author: this.user, at: now(), text };
    return this.update(id, 'note', (d) => {
      d.notes = [...(d.notes || []), note];
    }, { text });
  }

  addTag(id, tag) {
    return this.update(id, 'tag', (d) => {
      d.custom_tags = [...new Set([...(d.custom_tags || []), tag])].sort();
    }, { tag });
  }

  removeTag(id, tag) {
    return this.update(id, 'untag', (d) => {
      d.custom_tags = (d.custom_tags || []).filter((t) => t !== tag);
    }, { tag });
  }

  profile() {
    return this.users.get(this.user) || { name: this.user, custom_tags: [] };
  }

  // The user's profile document, `user:NAME` in `questions`, so every
  // dashboard knows who can be assigned and what they know about.
  async saveProfile(fields) {
    const id = `user:${this.user}`;
    let doc;
    try {
      doc = await this.localQuestions.get(id);
    } catch (e) {
      if (e.status !== 404) throw e;
      doc = { _id: id, type: 'user', name: this.user };
    }
    Object.assign(doc, fields, { updated_at: now() });
    await this.localQuestions.put(doc);
  }

  // Merges the conflicting revisions of a question field by field and keeps
  // one. A merge that fails is shown, never dropped.
  async resolve(id) {
    if (this.resolving?.has(id)) return;
    (this.resolving ||= new Set()).add(id);
    try {
      const winner = await this.localQuestions.get(id, { conflicts: true });
      const revs = winner._conflicts || [];
      if (!revs.length) return;
      const others = await Promise.all(revs.map((rev) => this.localQuestions.get(id, { rev })));
      const merged = mergeQuestion(winner, others);
      delete merged._conflicts;
      await this.localQuestions.bulkDocs([
        merged,
        ...others.map((o) => ({ _id: id, _rev: o._rev, _deleted: true })),
      ]);
    } catch (e) {
      if (e.status !== 409) this.showProblem(`Two edits of question ${id} could not be merged: ${e.message}`);
    } finally {
      this.resolving.delete(id);
    }
  }
}
