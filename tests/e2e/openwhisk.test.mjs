// The openwhisk npm client (pinned 3.21.9) against the real binary: entity
// CRUD, invocations of built-in and native actions, activations and the
// error bodies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import openwhisk from 'openwhisk';
import { sanitizedActionsSkip, startWisp, wispBin } from './wisp_server.mjs';

// A key of the right shape that is not the dev key, so --guest-key is used.
const GUEST = '0b4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f80:' + 'k'.repeat(64);

let server;
let ow;
let apihost;

before(async () => {
  server = await startWisp({ extraArgs: ['--guest-key', GUEST] });
  apihost = `http://127.0.0.1:${server.ports.api}`;
  ow = openwhisk({ apihost, api_key: GUEST, ignore_certs: true });
});

after(async () => {
  await server?.stop();
});

// Runs `fn`, which must fail, and returns the OpenWhiskError.
async function failure(fn) {
  try {
    await fn();
  } catch (err) {
    assert.equal(err.constructor.name, 'OpenWhiskError', String(err));
    return err;
  }
  assert.fail('expected an OpenWhiskError');
}

// Polls `fn` until it returns a truthy value or the deadline passes.
async function eventually(fn, deadlineMs = 10000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) assert.fail('condition not met before the deadline');
    await new Promise((r) => setImmediate(r));
  }
}

const echoExec = { exec: { kind: 'builtin', code: 'echo' } };

test('namespaces and the caller namespace', async () => {
  assert.deepEqual(await ow.namespaces.list(), ['guest']);
});

test('wrong key gets 401 with the OpenWhisk text', async () => {
  const stranger = openwhisk({ apihost, api_key: '0b4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f81:' + 'x'.repeat(64) });
  const err = await failure(() => stranger.actions.list());
  assert.equal(err.statusCode, 401);
  assert.equal(err.error.error, 'The supplied authentication is invalid');
  assert.match(err.error.code, /^[0-9a-f]{32}$/);
});

test('another namespace is 403 unless the package is published', async () => {
  const err = await failure(() => ow.actions.list({ namespace: 'whisk.system' }));
  assert.equal(err.statusCode, 403);
  assert.equal(err.error.error, 'The supplied authentication is not authorized to access this resource.');
  const shared = await ow.packages.get({ name: '/whisk.system/utils' });
  assert.deepEqual(shared.actions.map((a) => a.name).sort(),
    ['cat', 'date', 'echo', 'head', 'namespace', 'sort', 'split']);
  const missing = await failure(() => ow.actions.invoke({ name: 'no-such-action', blocking: true }));
  assert.equal(missing.statusCode, 404);
});

test('action create, get, update, list, delete', async () => {
  const created = await ow.actions.create({
    name: 'crud', action: { ...echoExec, parameters: [{ key: 'greeting', value: 'hi' }] },
  });
  assert.equal(created.version, '0.0.1');
  assert.equal(created.namespace, 'guest');
  assert.deepEqual(created.parameters, [{ key: 'greeting', value: 'hi' }]);
  assert.deepEqual(created.annotations, [
    { key: 'exec', value: 'builtin' },
    { key: 'provide-api-key', value: false },
  ]);
  assert.deepEqual(created.limits, { concurrency: 1, logs: 10, memory: 256, timeout: 60000 });

  const conflict = await failure(() => ow.actions.create({ name: 'crud', action: echoExec }));
  assert.equal(conflict.statusCode, 409);
  assert.equal(conflict.error.error, 'resource already exists');

  const updated = await ow.actions.update({ name: 'crud', action: { limits: { timeout: 1000 } } });
  assert.equal(updated.version, '0.0.2');
  assert.equal(updated.limits.timeout, 1000);
  assert.deepEqual(updated.parameters, [{ key: 'greeting', value: 'hi' }]);

  const got = await ow.actions.get({ name: 'crud', code: false });
  assert.equal(got.exec.code, undefined);
  assert.equal(got.exec.kind, 'builtin');

  const listed = await ow.actions.list();
  assert.ok(listed.some((a) => a.name === 'crud'));
  const count = await ow.actions.list({ count: true });
  assert.equal(typeof count.actions, 'number');

  const deleted = await ow.actions.delete({ name: 'crud' });
  assert.equal(deleted.name, 'crud');
  const missing = await failure(() => ow.actions.get({ name: 'crud' }));
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.error.error, 'The requested resource does not exist.');
});

test('bad input: names, kinds and limits get 400 with OpenWhisk texts', async () => {
  const badKind = await failure(() =>
    ow.actions.create({ name: 'javay', action: 'class Main {}', kind: 'java:8' }));
  assert.equal(badKind.statusCode, 400);
  assert.match(badKind.error.error, /^The specified runtime 'java:8' is not supported by this platform/);

  const badLimit = await failure(() =>
    ow.actions.create({ name: 'slow', action: { ...echoExec, limits: { timeout: 50 } } }));
  assert.equal(badLimit.statusCode, 400);
  assert.equal(badLimit.error.error,
    'The request content was malformed:\nrequirement failed: duration 50 milliseconds below allowed threshold of 100 milliseconds');

  const badName = await failure(() => ow.actions.create({ name: 'bad$name', action: echoExec }));
  assert.equal(badName.statusCode, 400);
  assert.equal(badName.error.error, 'The name of the entity contains illegal characters.');
});

test('one name table: a trigger named like an action is 409', async () => {
  await ow.actions.create({ name: 'shared-name', action: echoExec });
  const err = await failure(() => ow.triggers.create({ name: 'shared-name' }));
  assert.equal(err.statusCode, 409);
  assert.equal(err.error.error, 'Resource by this name exists but is not in this collection.');
});

test('blocking invoke of the utils catalog, result=true and full record', async () => {
  const sorted = await ow.actions.invoke({
    name: '/whisk.system/utils/sort', blocking: true, result: true, params: { lines: ['b', 'c', 'a'] },
  });
  assert.deepEqual(sorted, { length: 3, lines: ['a', 'b', 'c'] });

  const record = await ow.actions.invoke({ name: '/whisk.system/utils/echo', blocking: true, params: { x: 1 } });
  assert.equal(record.namespace, 'guest');
  assert.equal(record.name, 'echo');
  assert.equal(record.response.status, 'success');
  assert.equal(record.response.success, true);
  assert.deepEqual(record.response.result, { x: 1 });
  assert.match(record.activationId, /^[0-9a-f]{32}$/);
  const keys = record.annotations.map((a) => a.key);
  for (const key of ['path', 'waitTime', 'kind', 'timeout', 'limits']) assert.ok(keys.includes(key), key);
  assert.ok(!keys.includes('initTime'), 'built-in actions are never cold');

  // Readable as soon as the invoke returned.
  const stored = await ow.activations.get({ name: record.activationId });
  assert.deepEqual(stored.response.result, { x: 1 });
  const result = await ow.activations.result({ name: record.activationId });
  assert.deepEqual(result, { result: { x: 1 }, size: 7, status: 'success', success: true });
  const logs = await ow.activations.logs({ name: record.activationId });
  assert.deepEqual(logs, { logs: [] });
});

test('non-blocking invoke answers 202 with an activation id, record follows', async () => {
  const { activationId } = await ow.actions.invoke({ name: '/whisk.system/utils/cat', params: { lines: ['x', 'y'] } });
  assert.match(activationId, /^[0-9a-f]{32}$/);
  const record = await eventually(() => ow.activations.get({ name: activationId }));
  assert.deepEqual(record.response.result, { lines: ['x', 'y'], payload: 'x\ny' });
  const list = await ow.activations.list({ name: 'utils/cat', limit: 5 });
  assert.ok(list.some((a) => a.activationId === activationId));
  assert.ok(list.every((a) => a.name === 'cat'));
});

test('activation list is newest first, with skip, limit and count', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await ow.actions.invoke({ name: '/whisk.system/utils/echo', blocking: true, params: { i } });
    ids.push(r.activationId);
  }
  const list = await ow.activations.list({ name: 'utils/echo', limit: 3 });
  assert.deepEqual(list.map((a) => a.activationId), ids.slice().reverse());
  const skipped = await ow.activations.list({ name: 'utils/echo', limit: 1, skip: 1 });
  assert.equal(skipped[0].activationId, ids[1]);
  const docs = await ow.activations.list({ name: 'utils/echo', limit: 1, docs: true });
  assert.deepEqual(docs[0].response.result, { i: 2 });
  const count = await ow.activations.list({ count: true });
  assert.ok(count.activations >= 3);
});

test('bad activation ids get 400', async () => {
  const short = await failure(() => ow.activations.get({ name: 'abc' }));
  assert.equal(short.statusCode, 400);
  assert.equal(short.error.error, 'Activation id length is 3 but must be 32.');
  const nothex = await failure(() => ow.activations.get({ name: 'z'.repeat(32) }));
  assert.equal(nothex.error.error, 'The activation id is not valid.');
  const missing = await failure(() => ow.activations.get({ name: '0'.repeat(32) }));
  assert.equal(missing.statusCode, 404);
});

test('packages, actions inside them, and bindings with parameter precedence', async () => {
  const pkg = await ow.packages.create({ name: 'tools', package: { parameters: [{ key: 'a', value: 'pkg' }, { key: 'b', value: 'pkg' }] } });
  assert.deepEqual(pkg.binding, {});
  await ow.actions.create({ name: 'tools/show', action: { ...echoExec, parameters: [{ key: 'c', value: 'action' }] } });
  const got = await ow.packages.get({ name: 'tools' });
  assert.deepEqual(got.actions.map((a) => a.name), ['show']);

  const binding = await ow.packages.create({
    name: 'mytools',
    package: { binding: { namespace: '_', name: 'tools' }, parameters: [{ key: 'b', value: 'binding' }] },
  });
  assert.deepEqual(binding.binding, { namespace: 'guest', name: 'tools' });

  const result = await ow.actions.invoke({ name: 'mytools/show', blocking: true, result: true, params: { d: 'invoke' } });
  assert.deepEqual(result, { a: 'pkg', b: 'binding', c: 'action', d: 'invoke' });

  const list = await ow.packages.list();
  const item = list.find((p) => p.name === 'mytools');
  assert.deepEqual(item.binding, { namespace: 'guest', name: 'tools' });

  const notEmpty = await failure(() => ow.packages.delete({ name: 'tools' }));
  assert.equal(notEmpty.statusCode, 409);
  assert.equal(notEmpty.error.error,
    'Package not empty (contains 1 entities). Set force param or delete package contents.');

  const noTarget = await failure(() =>
    ow.packages.create({ name: 'dangling', package: { binding: { namespace: '_', name: 'nope' } } }));
  assert.equal(noTarget.statusCode, 400);
  assert.equal(noTarget.error.error, 'Binding references a package that does not exist.');

  const inBinding = await failure(() => ow.actions.create({ name: 'mytools/x', action: echoExec }));
  assert.equal(inBinding.statusCode, 400);
  assert.equal(inBinding.error.error, 'Operation not permitted on package binding.');
});

test('a binding to the shared utils package of whisk.system', async () => {
  await ow.packages.create({ name: 'myutils', package: { binding: { namespace: 'whisk.system', name: 'utils' } } });
  const result = await ow.actions.invoke({ name: 'myutils/head', blocking: true, result: true, params: { lines: ['1', '2', '3'], num: 2 } });
  assert.deepEqual(result, { lines: ['1', '2'] });
  const list = await ow.activations.list({ name: 'myutils/head', docs: true, limit: 1 });
  const ann = Object.fromEntries(list[0].annotations.map((a) => [a.key, a.value]));
  assert.equal(ann.path, 'whisk.system/utils/head');
  assert.equal(ann.binding, 'guest/myutils');
});

test('sequences chain results, list components and stop on error', async () => {
  await ow.actions.create({ name: 'splitter', action: { exec: { kind: 'builtin', code: 'split' } } });
  const seq = await ow.actions.create({ name: 'split-sort', sequence: ['/_/splitter', '/whisk.system/utils/sort'] });
  assert.deepEqual(seq.exec.components, ['/guest/splitter', '/whisk.system/utils/sort']);

  const record = await ow.actions.invoke({ name: 'split-sort', blocking: true, params: { payload: 'c,a,b', separator: ',' } });
  assert.deepEqual(record.response.result, { length: 3, lines: ['a', 'b', 'c'] });
  const stored = await ow.activations.get({ name: record.activationId });
  assert.equal(stored.logs.length, 2);
  assert.deepEqual(record.logs, stored.logs, 'a blocking sequence answers with its record: the component ids');
  for (const id of stored.logs) {
    const component = await ow.activations.get({ name: id });
    assert.equal(component.cause, record.activationId);
    assert.ok(component.annotations.some((a) => a.key === 'causedBy' && a.value === 'sequence'));
  }

  const self = await failure(() => ow.actions.update({ name: 'split-sort', sequence: ['/_/split-sort'] }));
  assert.equal(self.statusCode, 400);
  assert.equal(self.error.error, 'Sequence may not refer to itself.');
  const missing = await failure(() => ow.actions.create({ name: 'broken-seq', sequence: ['/_/nope'] }));
  assert.equal(missing.error.error, 'Sequence component does not exist.');

  // A parameter marked final cannot be overridden at invoke time.
  await ow.actions.create({
    name: 'locked', action: { ...echoExec, parameters: [{ key: 'k', value: 1 }], annotations: [{ key: 'final', value: true }] },
  });
  const locked = await failure(() => ow.actions.invoke({ name: 'locked', blocking: true, params: { k: 2 } }));
  assert.equal(locked.statusCode, 400);
  assert.equal(locked.error.error, 'Request defines parameters that are not allowed (e.g., reserved properties).');
});

test('an oversized payload gets 413', async () => {
  const big = 'x'.repeat(1024 * 1024 + 1);
  const err = await failure(() => ow.actions.invoke({ name: '/whisk.system/utils/echo', params: { big } }));
  assert.equal(err.statusCode, 413);
  assert.match(err.error.error, /^Request larger than allowed: \d+ > 1048576 bytes\.$/);
});

test('triggers and rules are stored', async () => {
  const trigger = await ow.triggers.create({ name: 'tick' });
  assert.equal(trigger.version, '0.0.1');
  assert.deepEqual(trigger.limits, {});
  assert.deepEqual(trigger.annotations, []);
  await ow.actions.create({ name: 'on-tick', action: echoExec });
  const rule = await ow.rules.create({ name: 'tick-rule', action: '/_/on-tick', trigger: '/_/tick' });
  assert.equal(rule.status, 'active');
  await ow.rules.disable({ name: 'tick-rule' });
  assert.equal((await ow.rules.get({ name: 'tick-rule' })).status, 'inactive');
  const t = await ow.triggers.get({ name: 'tick' });
  assert.equal(t.rules['guest/tick-rule'].status, 'inactive');
  await ow.triggers.delete({ name: 'tick' });
  const deleted = await ow.rules.delete({ name: 'tick-rule' });
  assert.equal(deleted.status, 'inactive');
});

test('a fire answers 204 without an active rule, 202 with one, and the rule runs its action', async () => {
  const auth = 'Basic ' + Buffer.from(GUEST).toString('base64');
  const fire = (body) =>
    fetch(`${apihost}/api/v1/namespaces/_/triggers/ring`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await ow.triggers.create({ name: 'ring', trigger: { parameters: [{ key: 'from', value: 'trigger' }] } });
  await ow.actions.create({ name: 'on-ring', action: echoExec });
  assert.equal((await fire({})).status, 204);

  await ow.rules.create({ name: 'ring-rule', action: '/_/on-ring', trigger: '/_/ring' });
  const fired = await ow.triggers.invoke({ name: 'ring', params: { bell: 'loud' } });
  assert.match(fired.activationId, /^[0-9a-f]{32}$/);
  const record = await eventually(() => ow.activations.get({ name: fired.activationId }));
  assert.equal(record.name, 'ring');
  assert.deepEqual(record.response.result, { bell: 'loud' });
  assert.equal(record.logs.length, 1);
  const line = JSON.parse(record.logs[0]);
  assert.equal(line.success, true);
  assert.equal(line.rule, 'guest/ring-rule');
  assert.equal(line.action, 'guest/on-ring');
  const caused = await eventually(() => ow.activations.get({ name: line.activationId }));
  assert.equal(caused.name, 'on-ring');
  assert.equal(caused.response.result.bell, 'loud');
  assert.equal(caused.response.result.from, 'trigger');

  await ow.rules.disable({ name: 'ring-rule' });
  assert.equal((await fire({})).status, 204);
  await ow.rules.enable({ name: 'ring-rule' });
  const again = await fire({});
  assert.equal(again.status, 202);
  assert.match(again.headers.get('x-openwhisk-activation-id'), /^[0-9a-f]{32}$/);
  await ow.triggers.delete({ name: 'ring' });
  await ow.rules.delete({ name: 'ring-rule' });
});

test('the alarms feed fires a trigger every second and its lifecycle works', async () => {
  const pkg = await ow.packages.get({ name: '/whisk.system/alarms' });
  assert.deepEqual(pkg.feeds.map((f) => f.name).sort(), ['alarm', 'interval', 'once']);
  await ow.triggers.create({ name: 'tock' });
  await ow.actions.create({ name: 'on-tock', action: echoExec });
  await ow.rules.create({ name: 'tock-rule', action: '/_/on-tock', trigger: '/_/tock' });
  const since = Date.now();
  await ow.feeds.create({
    name: '/whisk.system/alarms/alarm',
    trigger: 'tock',
    params: { cron: '*/1 * * * * *', trigger_payload: { beat: 'tock' } },
  });
  const fired = await eventually(async () => {
    const list = await ow.activations.list({ name: 'on-tock', since, docs: true });
    return list.find((a) => a.response.result.beat === 'tock');
  }, 15000);
  assert.equal(fired.name, 'on-tock');
  const read = await ow.actions.invoke({
    name: '/whisk.system/alarms/alarm',
    blocking: true,
    result: true,
    params: { lifecycleEvent: 'READ', triggerName: '/_/tock', authKey: GUEST },
  });
  assert.equal(read.config.cron, '*/1 * * * * *');
  assert.equal(read.status.active, true);
  await ow.feeds.delete({ name: '/whisk.system/alarms/alarm', trigger: 'tock' });
  const err = await failure(() =>
    ow.feeds.create({ name: '/whisk.system/alarms/alarm', trigger: 'tock', params: { cron: 'not a cron' } }),
  );
  assert.match(JSON.stringify(err.error), /cron pattern 'not a cron' is not valid/);
  await ow.rules.delete({ name: 'tock-rule' });
  await ow.triggers.delete({ name: 'tock' });
});

test('the minute throttle answers 429', async () => {
  const limited = await startWisp({ extraArgs: ['--dev', '--invocations-per-minute', '2'] });
  try {
    const client = openwhisk({
      apihost: `http://127.0.0.1:${limited.ports.api}`,
      api_key: '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP',
    });
    const invoke = () => client.actions.invoke({ name: '/whisk.system/utils/echo', blocking: true });
    // The window is the clock's minute: should it roll over meanwhile, the
    // count starts again, and the third call of the new minute is refused.
    let err;
    for (let i = 0; i < 6 && !err; i++) err = await invoke().then(() => undefined, (e) => e);
    assert.ok(err, 'no invoke was refused');
    assert.equal(err.statusCode, 429);
    assert.equal(err.error.error, 'Too many requests in the last minute (count: 3, allowed: 2).');
  } finally {
    await limited.stop();
  }
});

test('native actions: a script runs cold then warm', async () => {
  const script = '#!/bin/sh\nwhile read -r line; do echo "log line"; printf \'{"got":%s}\\n\' "$line" >&3; done\n';
  const created = await ow.actions.create({ name: 'script', action: { exec: { kind: 'native:default', code: script } } });
  assert.equal(created.exec.kind, 'native');
  assert.equal(created.exec.binary, false);

  const first = await ow.actions.invoke({ name: 'script', blocking: true, params: { n: 1 } });
  assert.equal(first.response.status, 'success', JSON.stringify(first.response));
  assert.deepEqual(first.response.result.got.value, { n: 1 });
  assert.equal(first.response.result.got.activation_id, first.activationId);
  const coldAnnotations = Object.fromEntries(first.annotations.map((a) => [a.key, a.value]));
  assert.equal(coldAnnotations.kind, 'native');
  assert.equal(typeof coldAnnotations.initTime, 'number', 'the first run starts a process');

  const second = await ow.actions.invoke({ name: 'script', blocking: true, params: { n: 2 } });
  assert.ok(!second.annotations.some((a) => a.key === 'initTime'), 'the second run is warm');
  const logs = await ow.activations.logs({ name: second.activationId });
  assert.equal(logs.logs.length, 1);
  assert.match(logs.logs[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z\s+stdout: log line$/);
});

test('native actions: the SDK example as a base64 binary', { skip: sanitizedActionsSkip }, async () => {
  const hello = path.join(path.dirname(wispBin), 'examples/actions/hello/hello');
  const code = readFileSync(hello).toString('base64');
  const created = await ow.actions.create({
    name: 'hello', action: { exec: { kind: 'native', code }, annotations: [{ key: 'wait-for-ack', value: true }] },
  });
  assert.equal(created.exec.binary, true);
  const result = await ow.actions.invoke({ name: 'hello', blocking: true, result: true, params: { name: 'Ada' } });
  assert.deepEqual(result, { greeting: 'Hello, Ada!' });
});

test('native actions: a crash is a developer error answered with 502', async () => {
  await ow.actions.create({ name: 'crasher', action: { exec: { kind: 'native', code: '#!/bin/sh\nread -r line\nexit 3\n' } } });
  const err = await failure(() => ow.actions.invoke({ name: 'crasher', blocking: true }));
  assert.equal(err.statusCode, 502);
  assert.equal(err.error.response.status, 'action developer error');
  assert.equal(err.error.response.result.error, 'The action did not produce a valid response and exited unexpectedly.');
});
