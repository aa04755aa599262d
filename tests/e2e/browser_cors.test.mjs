// CORS proven in a real browser: a page served from another loopback origin
// calls wisp with fetch() from headless chromium, as a dashboard hosted
// elsewhere would. The browser, not the test, decides whether the answer
// may be read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import openwhisk from 'openwhisk';
import { startWisp, ADMIN } from './wisp_server.mjs';
import { launchBrowser, startOrigin } from './browser.mjs';

const GUEST = '0b4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f80:' + 'k'.repeat(64);

let origin;
let server;
let browser;
let page;

before(async () => {
  origin = await startOrigin('<!doctype html><title>elsewhere</title><p>another origin</p>');
  server = await startWisp({ extraArgs: ['--guest-key', GUEST, '--cors-origin', origin.url] });
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.goto(origin.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await origin?.stop();
});

test('a page on another origin calls a web action and reads its result', async () => {
  const apihost = `http://127.0.0.1:${server.ports.api}`;
  const ow = openwhisk({ apihost, api_key: GUEST });
  const echo = '#!/bin/sh\nwhile read -r line; do printf \'{"got":%s}\\n\' "$line" >&3; done\n';
  await ow.actions.create({
    name: 'greet',
    action: { exec: { kind: 'native', code: echo } },
    annotations: { 'web-export': true },
  });
  const url = `${apihost}/api/v1/web/guest/default/greet.json/got/value`;  // project the arguments the action saw
  // A JSON POST is not a "simple" request, so the browser preflights it first.
  const result = await page.evaluate(async (target) => {
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
    });
    return { status: res.status, body: await res.json() };
  }, url);
  assert.equal(result.status, 200);
  assert.equal(result.body.name, 'Ada', JSON.stringify(result.body));
  assert.equal(result.body.__ow_method, 'post');
});

test('a page on another origin logs in to the CouchDB port and reads with its cookie', async () => {
  const couch = server.couchUrl;
  const result = await page.evaluate(async ({ couch, admin }) => {
    const login = await fetch(`${couch}/_session`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    const session = await fetch(`${couch}/_session`, { credentials: 'include' });
    const dbs = await fetch(`${couch}/_all_dbs`, { credentials: 'include' });
    return { login: login.status, session: await session.json(), dbs: dbs.status };
  }, { couch, admin: ADMIN });
  assert.equal(result.login, 200);
  assert.equal(result.session.userCtx.name, ADMIN.name);
  assert.equal(result.dbs, 200);
});

test('an origin that is not allowed cannot read the CouchDB port', async () => {
  const other = await startOrigin('<!doctype html><title>stranger</title>');
  try {
    const stranger = await browser.newPage();
    await stranger.goto(other.url);
    const outcome = await stranger.evaluate(async (couch) => {
      try {
        await fetch(`${couch}/_session`, { credentials: 'include' });
        return 'read';
      } catch (e) {
        return 'blocked';
      }
    }, server.couchUrl);
    assert.equal(outcome, 'blocked');
    await stranger.close();
  } finally {
    await other.stop();
  }
});
