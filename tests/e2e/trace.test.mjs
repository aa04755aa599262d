// The request's X-Request-ID is the trace id of everything it causes: the
// sequence's components, and an action that calls back into the API with
// the openwhisk npm client (which forwards __OW_TRANSACTION_ID as
// x-request-id), against the real binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import openwhisk from 'openwhisk';
import { ADMIN, eventually, startWisp } from './wisp_server.mjs';

const GUEST = '5e1c9a7b-3d2f-4c6e-8a9b-1c2d3e4f5a6b:' + 't'.repeat(64);
const require = createRequire(import.meta.url);

let server;
let ow;
let api;

before(async () => {
  // The `caller` action loads the npm client from this directory's
  // node_modules, which the action sandbox hides (docs/security.md "Sandbox").
  server = await startWisp({ extraArgs: ['--guest-key', GUEST, '--sandbox=off'] });
  api = `http://127.0.0.1:${server.ports.api}`;
  ow = openwhisk({ apihost: api, api_key: GUEST, ignore_certs: true });
  // Answers with the request line it was given (which carries transaction_id).
  const echoLine = '#!/bin/sh\nwhile read -r line; do printf \'{"line":%s}\\n\' "$line" >&3; done\n';
  await ow.actions.create({ name: 'echoline', action: { exec: { kind: 'native', code: echoLine } } });
  await ow.actions.create({
    name: 'twice',
    action: { exec: { kind: 'sequence', components: ['/_/echoline', '/_/echoline'] } },
  });
  // A node action that invokes `echoline` through the API with the npm
  // client, after exporting the request's fields as OpenWhisk's runtimes do.
  const caller = `#!${process.execPath}
const openwhisk = require(${JSON.stringify(require.resolve('openwhisk'))});
const fs = require('fs');
require('readline').createInterface({ input: process.stdin }).on('line', async (text) => {
  const request = JSON.parse(text);
  for (const key of ['activation_id', 'transaction_id', 'deadline', 'api_key']) {
    if (request[key] !== undefined) process.env['__OW_' + key.toUpperCase()] = request[key];
  }
  let answer;
  try {
    const inner = await openwhisk().actions.invoke({ name: 'echoline', blocking: true });
    answer = { mine: process.env.__OW_TRANSACTION_ID, inner: inner.response.result.line.transaction_id,
               innerId: inner.activationId };
  } catch (e) {
    answer = { error: String(e) };
  }
  fs.writeSync(3, JSON.stringify(answer) + '\\n');
});
`;
  await ow.actions.create({
    name: 'caller',
    action: { exec: { kind: 'native', code: caller } },
    annotations: { 'provide-api-key': true },
  });
});

after(async () => {
  await server?.stop();
});

async function invoke(name, requestId) {
  const res = await fetch(`${api}/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, {
    method: 'POST',
    headers: {
      Authorization: 'Basic ' + Buffer.from(GUEST).toString('base64'),
      'Content-Type': 'application/json',
      'X-Request-ID': requestId,
    },
    body: '{}',
  });
  assert.equal(res.headers.get('x-request-id'), requestId);
  return { status: res.status, body: await res.json(), id: res.headers.get('x-openwhisk-activation-id') };
}

// The stored record's trace_id, which the API does not show, read as the
// CouchDB admin reads the system database. Records are written behind
// (src/whisk/activation.h): the API reads one at once, but the CouchDB port
// sees it once the writer thread has committed it, so this waits for that.
async function storedTraceId(activationId) {
  return eventually(async () => {
    const res = await fetch(`${server.couchUrl}/whisk_local_activations/${encodeURIComponent('guest/' + activationId)}`, {
      headers: { Authorization: 'Basic ' + Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64') },
    });
    assert.equal(res.status, 200);
    return (await res.json()).trace_id;
  }, 10000);
}

test('every component of a sequence gets the request id as its transaction id', async () => {
  const trace = 'trace-seq-' + Date.now();
  const { status, body, id } = await invoke('twice', trace);
  assert.equal(status, 200);
  // The second component's line carries the first one's result as its value.
  assert.equal(body.line.transaction_id, trace);
  assert.equal(body.line.value.line.transaction_id, trace);
  assert.equal(await storedTraceId(id), trace);
  const record = await ow.activations.get({ name: id });
  for (const componentId of record.logs) assert.equal(await storedTraceId(componentId), trace);
});

test('an action that invokes another through the API passes the trace id on', async () => {
  const trace = 'trace-callback-' + Date.now();
  const { status, body, id } = await invoke('caller', trace);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.mine, trace);
  assert.equal(body.inner, trace);
  assert.equal(await storedTraceId(id), trace);
  assert.equal(await storedTraceId(body.innerId), trace);
});
