// Slack sign-in in a real browser (chromium through playwright-core)
// against the real binary: a signed slash command POSTed to /slack, as Slack
// sends it, answers with a one-time link; the link opens the dashboard
// signed in; a second use, an expired link and a forged one each say why
// they fail on the sign-in page. docs/dashboard.md, "Slack sign-in".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { startWisp, ADMIN, wispBin } from './wisp_server.mjs';
import { launchBrowser } from './browser.mjs';

const run = promisify(execFile);
const SECRET = 'e2e-slack-signing-secret';
const SHORT_LINK_SECONDS = 1;

let server;     // links last 5 minutes
let expiring;   // links last SHORT_LINK_SECONDS
let browser;

function appUrl(s) {
  return `http://127.0.0.1:${s.ports.api}`;
}

async function user(s, ...args) {
  return run(wispBin, ['user', ...args, '--url', s.couchUrl, '--admin', `${ADMIN.name}:${ADMIN.password}`]);
}

// A slash command body in Slack's field order, spaces as '+'.
function commandBody(fields = {}) {
  const f = {
    token: 'legacy-ignored', team_id: 'T0E2E', team_domain: 'wisp', channel_id: 'D0E2E',
    channel_name: 'directmessage', user_id: 'U0ADA', user_name: 'ada', command: '/wisp', text: 'login',
    api_app_id: 'A0E2E', is_enterprise_install: 'false',
    response_url: 'https://hooks.slack.com/commands/T0E2E/1/abc', trigger_id: '1.2.abc', ...fields,
  };
  return new URLSearchParams(f).toString();
}

// POSTs `body` to /slack signed as Slack signs it (v0:timestamp:body).
async function slash(s, body, { secret = SECRET, timestamp = Math.floor(Date.now() / 1000) } = {}) {
  const signature = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  const res = await fetch(`${appUrl(s)}/slack`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
}

// The sign-in link in an ephemeral answer: Slack's <URL|label> markup.
function linkIn(reply) {
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json.response_type, 'ephemeral');
  const match = /<([^|>]+)\|/.exec(reply.json.text);
  assert.ok(match, `no link in ${reply.json.text}`);
  return match[1];
}

// Opens `link` in a fresh browser; resolves with the page once it shows
// either the lists (signed in) or the sign-in form.
async function open(link) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(link);
  await page.waitForSelector('#qlist, #login-error:not(:empty)');
  return { context, page, errors };
}

before(async () => {
  server = await startWisp({ extraArgs: ['--slack-signing-secret', SECRET] });
  expiring = await startWisp({
    extraArgs: ['--slack-signing-secret', SECRET, '--slack-link-seconds', String(SHORT_LINK_SECONDS)],
  });
  for (const s of [server, expiring]) {
    await user(s, 'add', 'ada', '--password', 'ada-password-1', '--slack-id', 'U0ADA');
    await user(s, 'add', 'bob', '--password', 'bob-password-2');
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await expiring?.stop();
});

test('logging in with a Slack link', async () => {
  const reply = await slash(server, commandBody());
  const link = linkIn(reply);
  assert.match(reply.json.text, /as ada/);
  assert.ok(link.startsWith(`${appUrl(server)}/#/slack/`), link);

  const first = await open(link);
  await first.page.waitForSelector('#sync-badge[data-state="online"]');
  assert.match(await first.page.textContent('#user-menu'), /ada/);
  assert.ok(!first.page.url().includes('/slack/'), `the token left the address bar: ${first.page.url()}`);
  const session = await first.page.evaluate(async () => (await fetch('db/_session')).json());
  assert.equal(session.userCtx.name, 'ada');
  assert.equal(session.info.authenticated, 'cookie');   // the same session a password gives
  assert.deepEqual(first.errors, []);
  await first.context.close();

  const second = await open(link);
  assert.equal(await second.page.$('#qlist'), null);
  assert.match(await second.page.textContent('#login-error'), /already used/);
  await second.context.close();
});

test('an expired Slack link says so', async () => {
  const issued = Date.now();
  const link = linkIn(await slash(expiring, commandBody()));
  // The link's lifetime passing is the condition waited for.
  await new Promise((r) => setTimeout(r, Math.max(0, issued + SHORT_LINK_SECONDS * 1000 + 200 - Date.now())));
  const late = await open(link);
  assert.equal(await late.page.$('#qlist'), null);
  assert.match(await late.page.textContent('#login-error'), /expired/);
  await late.context.close();
});

test('without a signing secret /slack says Slack sign-in is not configured', async () => {
  const plain = await startWisp();
  try {
    const reply = await slash(plain, commandBody());
    assert.equal(reply.status, 200);
    assert.equal(reply.json.response_type, 'ephemeral');
    assert.match(reply.json.text, /Slack sign-in is not configured/);
  } finally {
    await plain.stop();
  }
});

test('forged, stale, replayed and unlinked commands get no link', async () => {
  const body = commandBody({ trigger_id: 'forged' });
  const forged = await slash(server, body, { secret: 'not-the-secret' });
  assert.equal(forged.status, 401);
  assert.match(forged.text, /signature is wrong/);
  const stale = await slash(server, body, { timestamp: Math.floor(Date.now() / 1000) - 301 });
  assert.equal(stale.status, 401);
  assert.match(stale.text, /more than 5 minutes/);

  const timestamp = Math.floor(Date.now() / 1000);
  const once = commandBody({ trigger_id: 'once' });
  linkIn(await slash(server, once, { timestamp }));
  const replay = await slash(server, once, { timestamp });
  assert.equal(replay.status, 401);
  assert.match(replay.text, /already received/);

  const bob = await slash(server, commandBody({ user_id: 'U0BOB', user_name: 'bob' }));
  assert.equal(bob.status, 200);
  assert.match(bob.json.text, /No dashboard user is linked to Slack user U0BOB/);
  assert.doesNotMatch(bob.json.text, /#\/slack\//);

  const unsigned = await fetch(`${appUrl(server)}/slack`, { method: 'POST', body });
  assert.equal(unsigned.status, 401);

  const page = await open(`${appUrl(server)}/#/slack/not-a-real-token`);
  assert.match(await page.page.textContent('#login-error'), /not valid/);
  await page.context.close();
});

test('only an admin links a user to Slack', async () => {
  // ada may not claim bob's Slack id on her own user document.
  const auth = 'Basic ' + Buffer.from('ada:ada-password-1').toString('base64');
  const url = `${server.couchUrl}/_users/org.couchdb.user:ada`;
  const doc = await (await fetch(url, { headers: { authorization: auth } })).json();
  const res = await fetch(url, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ ...doc, slack_user_id: 'U0BOB' }),
  });
  assert.equal(res.status, 403);
  await user(server, 'slack', 'bob', '--slack-id', 'U0BOB');
  linkIn(await slash(server, commandBody({ user_id: 'U0BOB', user_name: 'bob', trigger_id: 'bob' })));
});
