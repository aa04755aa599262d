// The dashboard with its server gone: the service worker's cached shell
// opens the app on a reload, the questions come from the browser's own copy,
// and an edit made then reaches the server once it is back. The server is
// really stopped (not only the browser's network cut), and restarted on the
// same ports and data directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startWisp, ADMIN, wispBin } from './wisp_server.mjs';
import { launchBrowser } from './browser.mjs';

const run = promisify(execFile);
let dataDir;
let server;
let browser;
let adminAuth;

function app() {
  return `http://127.0.0.1:${server.ports.api}`;
}

async function couch(method, urlPath, body) {
  const res = await fetch(`${server.couchUrl}/${urlPath}`, {
    method,
    headers: { authorization: adminAuth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function eventually(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function question(id, title) {
  return {
    _id: id, type: 'question', status: 'new', owner: null, notes: [], custom_tags: [],
    question: {
      question_id: Number(id), title, body: `<p>${title}</p>`, tags: ['couchdb'],
      link: `https://stackoverflow.com/questions/${id}`, creation_date: 1_700_000_000, last_activity_date: 1_700_000_000,
      score: 1, answer_count: 0, owner: { display_name: 'asker' },
    },
  };
}

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-e2e-offline-'));
  server = await startWisp({ dataDir });
  adminAuth = 'Basic ' + Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64');
  await run(wispBin, ['user', 'add', 'ada', '--password', 'ada-password-1', '--url', server.couchUrl,
    '--admin', `${ADMIN.name}:${ADMIN.password}`]);
  const seeded = await couch('POST', 'questions/_bulk_docs', {
    docs: [question('501', 'Kept in the browser'), question('502', 'Also kept')],
  });
  assert.equal(seeded.status, 201);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a reload with the server stopped shows the app and the local questions; an edit then syncs on return', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${app()}/`);
  await page.fill('#login-name', 'ada');
  await page.fill('#login-password', 'ada-password-1');
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#sync-badge[data-state="online"]');
  // The shell is cached once the service worker controls the page, and the
  // questions are local once the first replication has written them.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 });
  await page.waitForFunction(async () => {
    const db = new PouchDB('wisp-ada-questions');
    const info = await db.info();
    return info.doc_count >= 2;
  }, null, { timeout: 15000, polling: 100 });

  const { ports } = server;
  await server.stop({ keepData: true });
  await page.reload();
  await page.waitForSelector('#qlist');
  const titles = await page.$$eval('.qrow .qtitle', (els) => els.map((e) => e.textContent));
  assert.ok(titles.includes('Kept in the browser') && titles.includes('Also kept'), titles.join(', '));
  await page.waitForSelector('#sync-badge[data-state="offline"]');

  await page.goto(`${app()}/#/q/501`);
  await page.waitForSelector('.actions [data-key="a"]');
  await page.click('.actions [data-key="a"]');
  await page.fill('#note-text', 'written with the server down');
  await page.click('[data-key="add-note"]');
  await page.waitForSelector('.note-text >> text=written with the server down');

  server = await startWisp({ dataDir, ports });
  const doc = await eventually(async () => {
    const d = (await couch('GET', 'questions/501')).body;
    return d.owner === 'ada' && d.notes.length === 1 ? d : null;
  }, 40000, 'the edit made with the server down, on the server');
  assert.equal(doc.notes[0].text, 'written with the server down');
  await page.waitForSelector('#sync-badge[data-state="online"]', { timeout: 40000 });
  assert.deepEqual(errors, []);
  await context.close();
});
