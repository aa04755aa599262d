// The triage dashboard in a real browser (Debian's chromium through
// playwright-core) against the real binary: the app that `wisp serve`
// embeds, its login through `_session`, the lists, the triage actions, live
// sync between two browsers, an offline edit, hostile HTML and the
// keyboard-only path. Questions are seeded by writing to the store, as the
// pipeline's storer does. WISP_SCREENSHOTS=DIR saves the main views there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startWisp, ADMIN, wispBin } from './wisp_server.mjs';
import { launchBrowser } from './browser.mjs';

const run = promisify(execFile);
const USERS = { ada: 'ada-password-1', bob: 'bob-password-2' };
const shots = process.env.WISP_SCREENSHOTS;

let server;
let browser;
let app;      // the dashboard's URL on the OpenWhisk port
let adminAuth;

async function couch(method, urlPath, body) {
  const res = await fetch(`${server.couchUrl}/${urlPath}`, {
    method,
    headers: { authorization: adminAuth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function user(...args) {
  return run(wispBin, ['user', ...args, '--url', server.couchUrl, '--admin', `${ADMIN.name}:${ADMIN.password}`]);
}

let nextId = 1000;
// A question document as the storer writes it (DESIGN.md section 1).
function question(fields = {}, so = {}) {
  const id = String(nextId++);
  const created = 1_700_000_000 + nextId * 60;
  return {
    _id: id, type: 'question', status: 'new', owner: null, notes: [], custom_tags: [],
    ...fields,
    question: {
      question_id: Number(id), title: `Question ${id}`, body: `<p>Body of ${id}</p>`, tags: ['couchdb'],
      link: `https://stackoverflow.com/questions/${id}`, creation_date: created, last_activity_date: created,
      score: 1, answer_count: 0, owner: { display_name: 'asker' }, ...so,
    },
  };
}

async function seed(docs) {
  const res = await couch('POST', 'questions/_bulk_docs', { docs });
  assert.equal(res.status, 201);
  return docs.map((d) => d._id);
}

async function serverDoc(id) {
  return (await couch('GET', `questions/${encodeURIComponent(id)}`)).body;
}

// Polls `check` until it returns a truthy value or `ms` pass.
async function eventually(check, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function signIn(name, password = USERS[name], { hash = '' } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${app}/${hash}`);
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#qlist');
  await page.waitForSelector('#sync-badge[data-state="online"]');
  return { context, page, errors };
}

async function rowTitles(page) {
  return page.$$eval('.qrow .qtitle', (els) => els.map((e) => e.textContent));
}

async function count(page, view) {
  return Number((await page.textContent(`[data-count="${view}"]`)).replace(/\D/g, ''));
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

before(async () => {
  server = await startWisp();
  app = `http://127.0.0.1:${server.ports.api}`;
  adminAuth = 'Basic ' + Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64');
  for (const [name, password] of Object.entries(USERS)) await user('add', name, '--password', password);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('wisp serve creates the dashboard databases for the advocate role', async () => {
  for (const db of ['questions', 'events']) {
    const security = await couch('GET', `${db}/_security`);
    assert.deepEqual(security.body.members.roles, ['advocate']);
  }
  const ada = await couch('GET', '_users/org.couchdb.user:ada');
  assert.deepEqual(ada.body.roles, ['advocate']);
  assert.equal(ada.body.password, undefined);  // stored hashed
});

test('the app and the store share the OpenWhisk port; the APIs keep their 404s', async () => {
  const index = await fetch(`${app}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.match(await index.text(), /wisp triage/);
  const vendor = await fetch(`${app}/vendor/pouchdb.min.js`);
  assert.equal(vendor.status, 200);
  assert.match(vendor.headers.get('content-type'), /javascript/);
  const etag = vendor.headers.get('etag');
  assert.equal((await fetch(`${app}/vendor/pouchdb.min.js`, { headers: { 'if-none-match': etag } })).status, 304);
  const route = await fetch(`${app}/q/1`, { headers: { accept: 'text/html' } });
  assert.match(await route.text(), /wisp triage/);
  const store = await fetch(`${app}/db/questions`, { headers: { authorization: adminAuth } });
  assert.equal((await store.json()).db_name, 'questions');
  const anonymous = await fetch(`${app}/db/questions`);
  assert.equal(anonymous.status, 401);
  const api = await fetch(`${app}/api/v1/nothing/here`);
  assert.equal(api.status, 404);
  assert.ok('code' in (await api.json()));  // OpenWhisk's {error, code}
  const couchMissing = await fetch(`${app}/db/questions/_design/x/_nothing/a/b`, { headers: { authorization: adminAuth } });
  assert.equal((await couchMissing.json()).error, 'not_found');
});

test('wisp user passwd and remove change who can sign in', async () => {
  await user('add', 'carol', '--password', 'first');
  await assert.rejects(user('add', 'carol', '--password', 'again'), /exists/);
  await user('passwd', 'carol', '--password', 'second');
  const login = (password) => fetch(`${app}/db/_session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'carol', password }),
  }).then((r) => r.status);
  assert.equal(await login('first'), 401);
  assert.equal(await login('second'), 200);
  await user('remove', 'carol');
  assert.equal(await login('second'), 401);
  await assert.rejects(user('remove', 'carol'), /no user carol/);
});

test('a wrong password gets a clear message; the right one opens the lists', async () => {
  const [id] = await seed([question({}, { title: 'Replication stalls after a restart' })]);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app}/`);
  await page.waitForSelector('#login-name');
  await shot(page, 'login');
  await page.fill('#login-name', 'ada');
  await page.fill('#login-password', 'not-her-password');
  await page.press('#login-password', 'Enter');
  await page.waitForFunction(() => document.querySelector('#login-error')?.textContent.length > 0);
  assert.equal(await page.textContent('#login-error'), 'Wrong name or password.');
  await page.fill('#login-password', USERS.ada);
  await page.press('#login-password', 'Enter');
  await page.waitForSelector(`[data-key="row-${id}"]`);
  assert.ok((await rowTitles(page)).includes('Replication stalls after a restart'));
  await context.close();
});

test('lists, toggles, tag filter, search and counts', async () => {
  const tag = `t${nextId}`;  // a tag only this test's questions carry
  const docs = [
    question({}, { tags: [tag, 'php'], title: 'Unassigned PHP client' }),
    question({ owner: 'ada' }, { tags: [tag], title: 'Ada owns this one' }),
    question({ owner: 'bob' }, { tags: [tag], title: 'Bob owns this one' }),
    question({ rejected: true, rejected_at: '2026-01-01T00:00:00Z' }, { tags: [tag], title: 'Rejected spam' }),
    question({ owner: 'ada', answered: true, answered_at: '2026-01-01T00:00:00Z' }, { tags: [tag], title: 'Answered by Ada' }),
    question({ custom_tags: ['urgent'] }, { tags: [tag], title: 'Needs a quick look', body: '<p>mentions <code>zebrafish</code></p>' }),
  ];
  await seed(docs);
  const { page, context, errors } = await signIn('ada', USERS.ada, { hash: `#/list?tag=${tag}` });
  await page.waitForFunction((t) => document.querySelectorAll('.qrow').length === 2 && document.querySelector('#tag-filter').value === t, tag);
  // Unassigned and open: the PHP one and the urgent one (rejected is hidden).
  assert.deepEqual((await rowTitles(page)).sort(), ['Needs a quick look', 'Unassigned PHP client']);
  assert.equal(await count(page, 'unassigned'), 2);
  assert.equal(await count(page, 'mine'), 1);      // the answered one is hidden
  assert.equal(await count(page, 'all'), 4);
  assert.equal(await page.textContent('#result-count'), '2');

  await page.check('#show-rejected');
  await page.waitForFunction(() => document.querySelectorAll('.qrow').length === 3);
  assert.ok((await rowTitles(page)).includes('Rejected spam'));
  await page.waitForFunction(() => location.hash.includes('rejected=1'));   // the URL follows
  await page.uncheck('#show-rejected');

  await page.click('[data-key="tab-mine"]');
  await page.waitForFunction(() => document.querySelectorAll('.qrow').length === 1);
  assert.deepEqual(await rowTitles(page), ['Ada owns this one']);
  await page.check('#show-answered');
  await page.waitForFunction(() => document.querySelectorAll('.qrow').length === 2);
  assert.equal(await count(page, 'mine'), 2);

  await page.click('[data-key="tab-all"]');
  await page.uncheck('#show-answered');
  await page.fill('#search', 'zebrafish');                       // body text
  await page.waitForFunction(() => document.querySelectorAll('.qrow').length === 1);
  assert.deepEqual(await rowTitles(page), ['Needs a quick look']);
  await page.fill('#search', 'bob owns');                        // two terms of a title
  await page.waitForFunction(() => document.querySelector('.qrow .qtitle')?.textContent === 'Bob owns this one');
  assert.equal(await page.textContent('#result-count'), '1');
  await page.fill('#search', '');
  await page.fill('#tag-filter', 'urgent');                      // a custom tag
  await page.press('#tag-filter', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.qrow').length === 1);
  assert.deepEqual(await rowTitles(page), ['Needs a quick look']);
  await page.waitForFunction(() => location.hash.includes('tag=urgent'));

  // The hash reproduces the view in a fresh page.
  const again = await context.newPage();
  await again.goto(page.url());
  await again.waitForFunction(() => document.querySelectorAll('.qrow').length === 1);
  assert.deepEqual(await rowTitles(again), ['Needs a quick look']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('assign, answer, reject and note reach the server with audit events', async () => {
  const [first, second] = await seed([
    question({}, { title: 'Attachments vanish', tags: ['pouchdb'] }),
    question({}, { title: 'Obvious spam' }),
  ]);
  await couch('PUT', 'questions/user:bob', { type: 'user', name: 'bob', display_name: 'Bob B.', custom_tags: ['pouchdb'] });
  const { page, context } = await signIn('ada');
  await page.goto(`${app}/#/q/${first}`);
  await page.waitForSelector('#assignee');
  await page.waitForFunction(() => document.querySelector('#assignee option')?.textContent.includes('knows pouchdb'));
  await shot(page, 'question');
  await page.selectOption('#assignee', 'bob');
  await page.click('[data-key="assign-to"]');
  await eventually(async () => (await serverDoc(first)).owner === 'bob', 10000, 'assignment to bob');
  await page.click('.actions [data-key="a"]');   // take it
  await page.click('.actions [data-key="d"]');   // answered
  await page.fill('#note-text', 'Answered with a link to the docs.');
  await page.click('[data-key="add-note"]');
  const doc = await eventually(async () => {
    const d = await serverDoc(first);
    return d.owner === 'ada' && d.answered && d.notes.length === 1 ? d : null;
  }, 10000, 'owner, answer and note');
  assert.equal(doc.notes[0].author, 'ada');
  assert.equal(doc.notes[0].text, 'Answered with a link to the docs.');
  assert.equal(doc.answered_by, 'ada');
  assert.equal(doc.question.title, 'Attachments vanish');   // the SE object is untouched

  await page.goto(`${app}/#/q/${second}`);
  await page.click('.actions [data-key="x"]');
  await eventually(async () => (await serverDoc(second)).rejected === true, 10000, 'rejection');

  const events = await eventually(async () => {
    const rows = (await couch('POST', 'events/_find', { selector: { question_id: { $in: [first, second] } } })).body.docs;
    return rows.length >= 5 ? rows : null;
  }, 10000, 'five audit events');
  assert.deepEqual(events.map((e) => e.action).sort(), ['answer', 'assign', 'assign', 'note', 'reject']);
  assert.ok(events.every((e) => e.user === 'ada' && e.at));
  await page.waitForFunction(() => document.querySelectorAll('.history li').length >= 1);
  await context.close();
});

test('an edit made offline reaches the server after reconnection', async () => {
  const [id] = await seed([question({}, { title: 'Made while offline' })]);
  const { page, context } = await signIn('ada');
  await page.goto(`${app}/#/q/${id}`);
  await page.waitForSelector('.actions [data-key="a"]');
  await context.setOffline(true);
  await page.waitForSelector('#sync-badge[data-state="offline"]');
  await page.click('.actions [data-key="a"]');
  await page.fill('#note-text', 'written on a train');
  await page.click('[data-key="add-note"]');
  await page.waitForSelector('#owner-name >> text=ada');
  await page.waitForSelector('.note-text >> text=written on a train');
  assert.equal(await page.getAttribute('#sync-badge', 'data-state'), 'offline');
  await shot(page, 'offline');
  assert.equal((await serverDoc(id)).owner, null);   // nothing reached the server
  await context.setOffline(false);
  const doc = await eventually(async () => {
    const d = await serverDoc(id);
    return d.owner === 'ada' && d.notes.length === 1 ? d : null;
  }, 15000, 'the offline edit on the server');
  assert.equal(doc.notes[0].text, 'written on a train');
  await page.waitForSelector('#sync-badge[data-state="online"]');
  await context.close();
});

test('two people editing one question concurrently keep every change', async () => {
  const [id] = await seed([question({}, { title: 'Edited twice at once' })]);
  const ada = await signIn('ada');
  const bob = await signIn('bob');
  for (const p of [ada.page, bob.page]) {
    await p.goto(`${app}/#/q/${id}`);
    await p.waitForSelector('.actions [data-key="a"]');
  }
  await ada.context.setOffline(true);
  await ada.page.waitForSelector('#sync-badge[data-state="offline"]');
  await ada.page.fill('#note-text', 'ada, offline');
  await ada.page.click('[data-key="add-note"]');
  await ada.page.click('.actions [data-key="x"]');                 // ada rejects
  await bob.page.click('.actions [data-key="a"]');                 // bob takes it meanwhile
  await bob.page.fill('#note-text', 'bob, online');
  await bob.page.click('[data-key="add-note"]');
  await eventually(async () => (await serverDoc(id)).notes.length === 1, 10000, "bob's edit on the server");
  await ada.context.setOffline(false);
  const merged = await eventually(async () => {
    const d = (await couch('GET', `questions/${id}?conflicts=true`)).body;
    return d.notes.length === 2 && !d._conflicts ? d : null;
  }, 20000, 'one merged revision with both notes');
  assert.deepEqual(merged.notes.map((n) => n.text).sort(), ['ada, offline', 'bob, online']);
  assert.equal(merged.owner, 'bob');
  assert.equal(merged.rejected, true);
  await ada.context.close();
  await bob.context.close();
});

test('a second browser sees the first one\'s assignment live', async (t) => {
  const [id] = await seed([question({}, { title: 'Seen live' })]);
  const ada = await signIn('ada');
  const bob = await signIn('bob', USERS.bob, { hash: '#/list?view=all' });
  await bob.page.waitForSelector(`[data-key="row-${id}"]`);
  await ada.page.goto(`${app}/#/q/${id}`);
  await ada.page.waitForSelector('.actions [data-key="a"]');
  const clicked = Date.now();
  await ada.page.click('.actions [data-key="a"]');
  await bob.page.waitForFunction((qid) => {
    const link = document.querySelector(`[data-key="row-${qid}"]`);
    return link && link.closest('.qrow').querySelector('.owner')?.textContent.includes('ada');
  }, id, { timeout: 5000 });
  const elapsed = Date.now() - clicked;
  t.diagnostic(`bob saw the assignment ${elapsed} ms after ada's click`);
  assert.ok(elapsed < 2000, `bob saw the assignment after ${elapsed} ms`);
  // A question stored meanwhile (as the pipeline would) appears without a reload.
  const [fresh] = await seed([question({}, { title: 'Ingested just now' })]);
  await bob.page.waitForSelector(`[data-key="row-${fresh}"]`, { timeout: 5000 });
  await shot(bob.page, 'list');
  await ada.context.close();
  await bob.context.close();
});

test('hostile HTML in a title, body or note never runs', async () => {
  const [id] = await seed([question(
    { notes: [{ author: 'mallory', at: '2026-01-01T00:00:00Z', text: '<img src=x onerror="window.__pwned=\'note\'">' }] },
    {
      title: '<script>window.__pwned="title"</script><img src=x onerror="window.__pwned=\'title-img\'">',
      link: 'javascript:window.__pwned="so-link"',
      body: '<p>ok</p><script>window.__pwned="body"</script><img src=x onerror="window.__pwned=\'body-img\'">'
        + '<a href="javascript:window.__pwned=\'link\'">click</a><iframe src="javascript:parent.__pwned=1"></iframe>',
    },
  )]);
  const { page, context } = await signIn('ada', USERS.ada, { hash: '#/list?view=all' });
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss(); });
  await page.waitForSelector(`[data-key="row-${id}"]`);
  assert.match(await page.textContent(`[data-key="row-${id}"] .qtitle`), /<script>window.__pwned="title"<\/script>/);
  await page.click(`[data-key="row-${id}"]`);
  await page.waitForSelector('.qbody p');
  await page.click('.qbody a').catch(() => {});
  await page.waitForSelector('.note-text');
  assert.match(await page.textContent('.note-text'), /onerror/);   // shown as text
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$$eval('.qbody script, .qbody iframe, .qbody [onerror], .qhead img', (e) => e.length), 0);
  assert.equal(await page.$eval('.qbody a', (a) => a.getAttribute('href')), null);
  assert.equal(await page.$$eval('a[href^="javascript:"]', (e) => e.length), 0);   // nor the SO link
  assert.equal(dialogs, 0);
  await context.close();
});

test('a triage with the keyboard only', async () => {
  const title = `Keyboard ${nextId}`;
  const [id] = await seed([question({}, { title, creation_date: 2_000_000_000 })]);  // the newest: first row
  const { page, context } = await signIn('ada');
  await page.waitForSelector(`[data-key="row-${id}"]`);
  await page.keyboard.press('j');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.key), `row-${id}`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.actions [data-key="a"]');
  await page.keyboard.press('a');
  await page.waitForSelector('#owner-name >> text=ada');
  await page.keyboard.press('n');
  await page.keyboard.type('Looking into it.');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('.note-text >> text=Looking into it.');
  await page.keyboard.press('Escape');          // leave the note box
  await page.keyboard.press('d');
  await page.waitForSelector('.pill.status.answered');
  await page.keyboard.press('Escape');          // back to the list
  await page.waitForSelector('#qlist');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
  const doc = await eventually(async () => {
    const d = await serverDoc(id);
    return d.owner === 'ada' && d.answered && d.notes.length === 1 ? d : null;
  }, 10000, 'the keyboard triage on the server');
  assert.equal(doc.notes[0].text, 'Looking into it.');
  await context.close();
});

test('everyone who signed in once can be assigned', async () => {
  await user('add', 'dora', '--password', 'dora-pass');
  const dora = await signIn('dora', 'dora-pass');
  await eventually(async () => (await couch('GET', 'questions/user:dora')).status === 200, 10000, "dora's profile");
  await dora.context.close();
  const [id] = await seed([question({}, { title: 'Who can take this?' })]);
  const { page, context } = await signIn('ada');
  await page.goto(`${app}/#/q/${id}`);
  await page.waitForFunction(() => [...document.querySelectorAll('#assignee option')].some((o) => o.value === 'dora'));
  await context.close();
});

test('a profile names its owner and puts them first for questions with their tags', async () => {
  const [id] = await seed([question({}, { title: 'Mango index not used', tags: ['mango'] })]);
  const { page, context } = await signIn('ada');
  await page.click('#user-menu a');
  await page.waitForSelector('#display-name');
  await page.fill('#display-name', 'Ada Lovelace');
  await page.fill('#so-id', '12345');
  await page.fill('#profile-tags', 'Mango, sqlite');
  await page.click('form.profile button[type="submit"]');
  const profile = await eventually(async () => {
    const d = (await couch('GET', 'questions/user:ada')).body;
    return d.display_name === 'Ada Lovelace' ? d : null;
  }, 10000, 'the profile on the server');
  assert.deepEqual(profile.custom_tags, ['mango', 'sqlite']);
  assert.equal(profile.so_user_id, '12345');
  assert.equal(profile.type, 'user');
  await page.goto(`${app}/#/q/${id}`);
  await page.waitForSelector('#assignee');
  assert.equal(await page.$eval('#assignee option', (o) => o.textContent), 'Ada Lovelace — knows mango');
  assert.equal(await page.textContent('#user-menu a'), 'Ada Lovelace');
  await context.close();
});

test('logging out clears this browser\'s copy', async () => {
  const { page, context } = await signIn('ada');
  const before = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(before.some((n) => n.includes('wisp-ada-questions')));
  await page.click('#user-menu button');
  await page.waitForSelector('#login-name');
  const afterNames = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(!afterNames.some((n) => n.includes('wisp-ada')), afterNames.join(','));
  assert.equal(await page.evaluate(() => localStorage.getItem('wisp.user')), null);
  await page.reload();
  await page.waitForSelector('#login-name');   // the cookie is gone too
  await context.close();
});
