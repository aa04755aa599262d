// Web actions against the real binary: actions created with the openwhisk
// npm client (annotation web-export) and called with plain fetch, as a
// browser or curl would, without credentials.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import openwhisk from 'openwhisk';
import { startWisp } from './wisp_server.mjs';

const GUEST = '0b4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f80:' + 'k'.repeat(64);

let server;
let ow;
let web;

before(async () => {
  server = await startWisp({ extraArgs: ['--guest-key', GUEST] });
  const apihost = `http://127.0.0.1:${server.ports.api}`;
  ow = openwhisk({ apihost, api_key: GUEST, ignore_certs: true });
  web = `${apihost}/api/v1/web/guest/default`;
});

after(async () => {
  await server?.stop();
});

// A native shell-script action: each line on stdin is one activation, the
// result goes to fd 3.
function script(resultJson) {
  return `#!/bin/sh\nwhile read -r line; do printf '%s\\n' '${resultJson}' >&3; done\n`;
}

test('a native script answers .http with its status, headers and body', async () => {
  const result = JSON.stringify({ statusCode: 201, headers: { 'content-type': 'text/plain', 'x-from': 'sh' }, body: 'hello web' });
  await ow.actions.create({
    name: 'page',
    action: { exec: { kind: 'native', code: script(result) } },
    annotations: { 'web-export': true },
  });
  const res = await fetch(`${web}/page.http`, { headers: { Origin: 'https://elsewhere.example' } });
  assert.equal(res.status, 201);
  assert.equal(await res.text(), 'hello web');
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(res.headers.get('x-from'), 'sh');
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const id = res.headers.get('x-openwhisk-activation-id');
  assert.match(id, /^[0-9a-f]{32}$/);
  const record = await ow.activations.get({ name: id });
  assert.equal(record.name, 'page');
  assert.equal(record.response.result.statusCode, 201);
});

test('.json with query arguments, and OPTIONS answered without running the action', async () => {
  const echo = '#!/bin/sh\nwhile read -r line; do printf \'{"got":%s}\\n\' "$line" >&3; done\n';
  await ow.actions.create({
    name: 'echo',
    action: { exec: { kind: 'native', code: echo } },
    annotations: { 'web-export': true },
  });
  const res = await fetch(`${web}/echo.json/got/value?name=Ada`);
  assert.equal(res.status, 200);
  const args = await res.json();
  assert.equal(args.name, 'Ada');
  assert.equal(args.__ow_method, 'get');
  assert.equal(args.__ow_path, '/got/value');

  const pre = await fetch(`${web}/echo.json`, {
    method: 'OPTIONS',
    headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'POST' },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
  assert.equal(pre.headers.get('x-openwhisk-activation-id'), null);
});

test('an action without web-export is a 404', async () => {
  await ow.actions.create({ name: 'private', action: { exec: { kind: 'builtin', code: 'echo' } } });
  const res = await fetch(`${web}/private.json`);
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error, 'The requested resource does not exist.');
});
