// The language runtimes (nodejs:20, python:3) through the openwhisk npm
// client (pinned 3.21.9) against the real binary: single files, zips, async
// actions, an action that calls back into wisp with the openwhisk library, a
// sequence across kinds, and the bad inputs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openwhisk from 'openwhisk';
import { sanitizedActionsSkip, startWisp } from './wisp_server.mjs';

const GUEST = '0b4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f80:' + 'r'.repeat(64);
const here = path.dirname(fileURLToPath(import.meta.url));

let server;
let ow;

before(async () => {
  // What an operator does to give every Node.js action a library: wisp's
  // NODE_PATH reaches the interpreters (docs/runtimes.md). Here it is the
  // test's own node_modules, which holds the openwhisk client.
  process.env.NODE_PATH = path.join(here, 'node_modules');
  server = await startWisp({ extraArgs: ['--guest-key', GUEST, '--stem-cells', 'nodejs:20=1,python:3=1'] });
  ow = openwhisk({ apihost: `http://127.0.0.1:${server.ports.api}`, api_key: GUEST });
});

after(async () => {
  await server?.stop();
});

async function failure(fn) {
  try {
    await fn();
  } catch (err) {
    assert.equal(err.constructor.name, 'OpenWhiskError', String(err));
    return err;
  }
  assert.fail('expected an OpenWhiskError');
}

// A zip (entries stored, not compressed) of `files`: {name: text}.
function zip(files) {
  const parts = [];
  const central = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const fileName = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE((3 << 8) | 20, 4); // made on Unix
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(fileName.length, 28);
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    entry.writeUInt32LE(offset, 42);
    parts.push(local, fileName, data);
    central.push(entry, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]).toString('base64');
}

// A blocking invoke answers with empty logs, as OpenWhisk does: they are read
// from the stored record.
const logsOf = async (activation) => (await ow.activations.logs({ name: activation.activationId })).logs;
const annotationsOf = (activation) => Object.fromEntries(activation.annotations.map((a) => [a.key, a.value]));

test('nodejs: a single file, cold then warm, with its logs', async () => {
  const created = await ow.actions.create({
    name: 'hello-js',
    action: "function main(params) {\n  console.log('greeting ' + params.name);\n  return {greeting: 'Hello, ' + params.name};\n}\n",
  });
  assert.equal(created.exec.kind, 'nodejs:20', 'nodejs:default resolves to nodejs:20');

  const first = await ow.actions.invoke({ name: 'hello-js', blocking: true, params: { name: 'Ada' } });
  assert.deepEqual(first.response.result, { greeting: 'Hello, Ada' });
  const cold = annotationsOf(first);
  assert.equal(cold.kind, 'nodejs:20');
  assert.equal(typeof cold.initTime, 'number', 'the first run is cold');

  const second = await ow.actions.invoke({ name: 'hello-js', blocking: true, params: { name: 'Grace' } });
  assert.equal(annotationsOf(second).initTime, undefined, 'the second run is warm');
  const logs = await ow.activations.logs({ name: second.activationId });
  assert.equal(logs.logs.length, 1);
  assert.match(logs.logs[0], /^\d{4}-\d\d-\d\dT[\d:.]+Z\s+stdout: greeting Grace$/);
});

test('nodejs: an async action', async () => {
  await ow.actions.create({
    name: 'async-js',
    action: 'async function main(p) { await new Promise((r) => setTimeout(r, 10)); return {later: p.n + 1}; }',
  });
  assert.deepEqual(await ow.actions.invoke({ name: 'async-js', blocking: true, result: true, params: { n: 1 } }),
    { later: 2 });
});

test('nodejs: a zip with package.json main and its own node_modules', async () => {
  const code = zip({
    'package.json': JSON.stringify({ name: 'zipped', main: 'src/action.js' }),
    'src/action.js': "const pad = require('pad-left');\nexports.run = (p) => ({padded: pad(p.s, 5)});\n",
    'node_modules/pad-left/index.js': "module.exports = (s, n) => ' '.repeat(Math.max(0, n - s.length)) + s;\n",
  });
  const created = await ow.actions.create({ name: 'zip-js', action: { exec: { kind: 'nodejs:default', code, main: 'run' } } });
  assert.equal(created.exec.binary, true);
  assert.deepEqual(await ow.actions.invoke({ name: 'zip-js', blocking: true, result: true, params: { s: 'ab' } }),
    { padded: '   ab' });
});

test('nodejs: an action invokes another through the openwhisk library', async () => {
  await ow.actions.create({ name: 'callee', action: 'function main(p) { return {echo: p.word}; }' });
  await ow.actions.create({
    name: 'caller',
    action: {
      exec: {
        kind: 'nodejs:20',
        code: "const openwhisk = require('openwhisk');\n" +
          'async function main(p) {\n' +
          '  const ow = openwhisk();\n' +
          "  const r = await ow.actions.invoke({name: 'callee', blocking: true, result: true, params: {word: p.word}});\n" +
          '  return {via: process.env.__OW_ACTION_NAME, got: r};\n}\n',
      },
      annotations: [{ key: 'provide-api-key', value: true }],
    },
  });
  assert.deepEqual(await ow.actions.invoke({ name: 'caller', blocking: true, result: true, params: { word: 'hi' } }),
    { via: '/guest/caller', got: { echo: 'hi' } });

  // Without the key, the library has nothing to call with.
  await ow.actions.update({ name: 'caller', action: { annotations: [{ key: 'provide-api-key', value: false }] } });
  const err = await failure(() => ow.actions.invoke({ name: 'caller', blocking: true, params: { word: 'hi' } }));
  assert.equal(err.error.response.status, 'application error');
});

test('python: a single file and a zip with __main__.py and a virtualenv', async () => {
  const created = await ow.actions.create({
    name: 'hello-py',
    action: { exec: { kind: 'python:default', code: "def main(args):\n    print('py got', args['name'])\n    return {'greeting': 'Hello, ' + args['name']}\n" } },
  });
  assert.equal(created.exec.kind, 'python:3');
  const activation = await ow.actions.invoke({ name: 'hello-py', blocking: true, params: { name: 'Ada' } });
  assert.deepEqual(activation.response.result, { greeting: 'Hello, Ada' });
  assert.match((await logsOf(activation))[0], /stdout: py got Ada$/);

  const code = zip({
    '__main__.py': 'import shout\ndef main(args):\n    return {"said": shout.shout(args["word"])}\n',
    'virtualenv/lib/python3.11/site-packages/shout.py': 'def shout(s):\n    return s.upper()\n',
  });
  await ow.actions.create({ name: 'zip-py', action: { exec: { kind: 'python:3', code } } });
  assert.deepEqual(await ow.actions.invoke({ name: 'zip-py', blocking: true, result: true, params: { word: 'hey' } }),
    { said: 'HEY' });
});

test('a sequence across kinds', async () => {
  await ow.actions.create({ name: 'seq-js', action: 'function main(p) { return {n: p.n * 10}; }' });
  await ow.actions.create({ name: 'seq-py', action: { exec: { kind: 'python:3', code: "def main(a):\n    return {'n': a['n'] + 1}\n" } } });
  await ow.actions.create({ name: 'mixed', action: { exec: { kind: 'sequence', components: ['/_/seq-js', '/_/seq-py', '/_/seq-js'] } } });
  assert.deepEqual(await ow.actions.invoke({ name: 'mixed', blocking: true, result: true, params: { n: 2 } }), { n: 210 });
});

// The activation of a failed blocking invoke (the client rejects with it).
async function failedActivation(name, code, { kind = 'nodejs:20', timeout } = {}) {
  const action = { exec: { kind, code } };
  if (timeout) action.limits = { timeout };
  await ow.actions.create({ name, action });
  const err = await failure(() => ow.actions.invoke({ name, blocking: true }));
  return err.error;
}

test('bad input: load failures, throws, timeouts, bad results and crashes', async () => {
  const syntax = await failedActivation('bad-syntax', 'function main() {\n  return {a: };\n}\n');
  assert.equal(syntax.response.status, 'action developer error');
  assert.match(syntax.response.result.error, /^The action failed during initialization: SyntaxError/);
  const syntaxLogs = await logsOf(syntax);
  assert.ok(syntaxLogs.some((line) => line.includes('main.js:2')), syntaxLogs.join('\n'));

  const noMain = await failedActivation('bad-main', 'function other() {}');
  assert.match(noMain.response.result.error, /the action has no function 'main'/);

  const pySyntax = await failedActivation('bad-py', 'def main(args)\n', { kind: 'python:3' });
  assert.match(pySyntax.response.result.error, /^The action failed during initialization: SyntaxError/);

  const thrown = await failedActivation('bad-throw', "function main() { throw new Error('boom'); }");
  assert.equal(thrown.response.status, 'application error');
  assert.equal(thrown.response.result.error, 'An error has occurred: Error: boom');
  assert.ok((await logsOf(thrown)).some((line) => line.includes('stderr: Error: boom')));

  const rejected = await failedActivation('bad-reject', "function main() { return Promise.reject({error: 'nope'}); }");
  assert.equal(rejected.response.status, 'application error');
  assert.deepEqual(rejected.response.result, { error: 'nope' });

  const never = await failedActivation('bad-never', 'function main() { return new Promise(() => {}); }', { timeout: 300 });
  assert.equal(never.response.status, 'action developer error');
  assert.equal(never.response.result.error, 'The action exceeded its time limits of 300 milliseconds.');
  assert.equal(annotationsOf(never).timeout, true);

  const scalar = await failedActivation('bad-scalar', "function main() { return 'text'; }");
  assert.equal(scalar.response.status, 'action developer error');
  assert.match(scalar.response.result.error, /did not produce a valid JSON or JSON Array response/);

  const exits = await failedActivation('bad-exit', 'function main() { process.exit(1); }');
  assert.equal(exits.response.result.error, 'The action did not produce a valid response and exited unexpectedly.');

  const escape = await failedActivation('bad-zip', zip({ 'index.js': 'exports.main = () => ({});', '../escape.js': 'x' }));
  assert.match(escape.response.result.error, /entry outside its root: \.\.\/escape\.js/);
});

const CPP_HELLO = `#include "whisk/sdk/action.h"
#include <iostream>

wisp::Result<wisp::Json> Main(const wisp::Json& args) {
  std::string name = wisp::json::GetString(args, "name", "World");
  std::cout << "cpp greets " << name << std::endl;
  return wisp::Json{{"greeting", "Hello, " + name + "!"}};
}

int main() { return wisp::whisk::sdk::Serve(Main); }
`;

test('cpp: source compiled once on create, run warm, compile errors are 400', { skip: sanitizedActionsSkip }, async () => {
  const created = await ow.actions.create({ name: 'hello-cpp', action: { exec: { kind: 'cpp', code: CPP_HELLO } } });
  assert.equal(created.exec.kind, 'cpp');
  const first = await ow.actions.invoke({ name: 'hello-cpp', blocking: true, params: { name: 'Ada' } });
  assert.deepEqual(first.response.result, { greeting: 'Hello, Ada!' });
  assert.equal(typeof annotationsOf(first).initTime, 'number');
  assert.match((await logsOf(first))[0], /stdout: cpp greets Ada$/);
  const second = await ow.actions.invoke({ name: 'hello-cpp', blocking: true, params: { name: 'Bo' } });
  assert.equal(annotationsOf(second).initTime, undefined, 'warm');

  const broken = await failure(() => ow.actions.create({
    name: 'broken-cpp', action: { exec: { kind: 'cpp', code: 'int main() { return undeclared; }\n' } },
  }));
  assert.equal(broken.statusCode, 400);
  assert.match(broken.error.error, /^The C\+\+ action does not compile:\n/);
  assert.match(broken.error.error, /action\.cpp:1:\d+: error: .*undeclared/);
});
