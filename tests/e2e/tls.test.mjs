// wisp over TLS (docs/security.md): a CA and a server certificate made with
// openssl for this run, `wisp serve --tls-cert --tls-key --https-redirect`,
// then the clients a user has: curl, the npm openwhisk and nano clients, and
// chromium. Every client trusts the generated CA (or, for chromium, exactly
// the generated certificate's key); none of them skips verification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openwhisk from 'openwhisk';
import { startWisp, ADMIN } from './wisp_server.mjs';
import { launchBrowser } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const GUEST = '1c4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f81:' + 't'.repeat(64);

let dir;
let certs;
let server;
let api;
let couch;

function openssl(...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

// A CA, and a server certificate it signs for localhost and 127.0.0.1.
function makeCertificates() {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=wisp test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
    '-subj', '/CN=localhost');
  writeFileSync(path.join(dir, 'server.ext'), [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  // base64(sha256(SubjectPublicKeyInfo)): the pin chromium's
  // --ignore-certificate-errors-spki-list accepts for exactly this key.
  const der = execFileSync('sh', ['-c',
    'openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin -outform der'], { cwd: dir });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
  return {
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server.key'),
    spki,
  };
}

function curl(...args) {
  return spawnSync('curl', ['-sS', ...args], { encoding: 'utf8' });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'wisp-tls-'));
  certs = makeCertificates();
  server = await startWisp({
    extraArgs: ['--tls-cert', certs.cert, '--tls-key', certs.key, '--https-redirect', '--guest-key', GUEST],
  });
  api = `https://localhost:${server.ports.api}`;
  couch = `https://localhost:${server.ports.couch}`;
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('curl trusting the CA reaches both ports over https', () => {
  const ping = curl('--cacert', certs.ca, `${api}/ping`);
  assert.equal(ping.status, 0, ping.stderr);
  assert.equal(ping.stdout, 'pong');
  const welcome = curl('--cacert', certs.ca, '-u', `${ADMIN.name}:${ADMIN.password}`, `${couch}/_all_dbs`);
  assert.equal(welcome.status, 0, welcome.stderr);
  assert.ok(JSON.parse(welcome.stdout).includes('_users'), welcome.stdout);
});

test('curl without the CA refuses the certificate', () => {
  const r = curl(`${api}/ping`);
  assert.equal(r.status, 60, `curl exit 60 is "peer certificate cannot be authenticated": ${r.stderr}`);
});

test('plain http on either port is redirected to the same URL over https', () => {
  for (const port of [server.ports.api, server.ports.couch]) {
    const r = curl('-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `http://localhost:${port}/ping?a=1`);
    assert.equal(r.stdout, `301 https://localhost:${port}/ping?a=1`);
  }
  // A POST keeps its method and body through the 308.
  const post = curl('-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-d', '{}',
    `http://localhost:${server.ports.couch}/_session`);
  assert.equal(post.stdout, '308');
  // curl -L follows the redirect and verifies the certificate.
  const followed = curl('-L', '--cacert', certs.ca, `http://localhost:${server.ports.api}/ping`);
  assert.equal(followed.status, 0, followed.stderr);
  assert.equal(followed.stdout, 'pong');
});

test('the openwhisk npm client works with apihost https://... and the CA in its agent', async () => {
  const ow = openwhisk({ apihost: api, api_key: GUEST, agent: new https.Agent({ ca: readFileSync(certs.ca) }) });
  await ow.actions.create({ name: 'tls-echo', action: { exec: { kind: 'builtin', code: 'echo' } } });
  const result = await ow.actions.invoke({ name: 'tls-echo', params: { over: 'tls' }, blocking: true, result: true });
  assert.equal(result.over, 'tls');
  // The same client without the CA is refused by its TLS layer.
  const untrusting = openwhisk({ apihost: api, api_key: GUEST });
  await assert.rejects(untrusting.actions.list(), /certificate/i);
});

test('nano and openwhisk trust the CA from NODE_EXTRA_CA_CERTS, as a user would set it', () => {
  const script = `
    import nano from 'nano';
    import openwhisk from 'openwhisk';
    const couch = nano(process.env.COUCH);
    await couch.db.create('tlsdb');
    const db = couch.use('tlsdb');
    const { id } = await db.insert({ over: 'tls' }, 'doc');
    const doc = await db.get(id);
    const ow = openwhisk({ apihost: process.env.API, api_key: process.env.GUEST });
    const namespaces = await ow.namespaces.list();
    console.log(JSON.stringify({ doc, namespaces }));
  `;
  const couchWithAuth = `https://${ADMIN.name}:${ADMIN.password}@localhost:${server.ports.couch}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: here,
    encoding: 'utf8',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.ca, COUCH: couchWithAuth, API: api, GUEST },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(out.doc.over, 'tls');
  assert.deepEqual(out.namespaces, ['guest']);
});

test('chromium pinning the certificate key loads the dashboard over https, and http redirects there', async () => {
  const browser = await launchBrowser({ args: [`--ignore-certificate-errors-spki-list=${certs.spki}`] });
  try {
    const page = await browser.newPage();
    const response = await page.goto(`${api}/`);
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), 'wisp triage');
    assert.equal(await page.evaluate(() => window.isSecureContext), true);

    // Logging in on the same origin sets a Secure session cookie the browser keeps and sends.
    const session = await page.evaluate(async (admin) => {
      const login = await fetch('/db/_session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(admin),
      });
      const who = await (await fetch('/db/_session')).json();
      return { status: login.status, cookie: login.headers.get('set-cookie'), name: who.userCtx.name };
    }, { name: ADMIN.name, password: ADMIN.password });
    assert.equal(session.status, 200);
    assert.equal(session.name, ADMIN.name);
    const cookies = await page.context().cookies(api);
    const auth = cookies.find((c) => c.name === 'AuthSession');
    assert.ok(auth, JSON.stringify(cookies));
    assert.equal(auth.secure, true);

    const redirected = await page.goto(`http://localhost:${server.ports.api}/`);
    assert.equal(redirected.status(), 200);
    assert.equal(new URL(page.url()).protocol, 'https:');
  } finally {
    await browser.close();
  }
});

test('chromium without the pin refuses the certificate', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await assert.rejects(page.goto(`${api}/`), /ERR_CERT_AUTHORITY_INVALID/);
  } finally {
    await browser.close();
  }
});
