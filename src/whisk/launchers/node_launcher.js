// wisp's launcher for nodejs actions: one Node.js process that serves one
// action's activations over the actionloop protocol (docs/runtimes.md).
//
// stdin carries one JSON line per message. The first is
//   {"init": {"dir", "entry", "main", "env"}}
// and the launcher answers on fd 3 with {"ok":true}, or {"error": why} when
// the code cannot be loaded. Every later line is an activation
// (docs/actionloop.md): the launcher exports its string fields as __OW_*,
// calls the action with `value`, ends stdout and stderr with the sentinel and
// writes the result as one line on fd 3.
//
// A process may start before its action is known (a stem cell): it only
// loads the code when the init line comes.
'use strict';

const fs = require('fs');
const path = require('path');
const Module = require('module');
const readline = require('readline');
const vm = require('vm');

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n';

function writeResult(value) {
  let line;
  try {
    line = JSON.stringify(value === undefined ? {} : value);
  } catch (e) {
    line = JSON.stringify({ error: `The action's result is not JSON: ${e.message}` });
  }
  if (line === undefined) line = '{}';
  fs.writeSync(3, line.replace(/\n/g, '') + '\n');
}

// Resolves once everything written to the stream so far has reached the pipe.
function flushWith(stream, text) {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

// A single file: top-level `function main` (OpenWhisk's plain actions) or
// `exports.main`. The file is compiled as a CommonJS module of its own
// directory, so `require` finds a node_modules beside it, then NODE_PATH.
function loadFile(file, main) {
  const source = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '');
  // Compiled once as it is, so that a syntax error points into the file and
  // not at the line added below.
  new vm.Script(Module.wrap(source), { filename: file });
  const mod = new Module(file, null);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  const exportMain = IDENTIFIER.test(main)
    ? `\n;if (typeof ${main} === 'function' && module.exports[${JSON.stringify(main)}] === undefined) ` +
      `module.exports[${JSON.stringify(main)}] = ${main};\n`
    : '';
  mod._compile(source + exportMain, file);
  return mod.exports;
}

// A zip: package.json's `main` (else index.js) is required, and `main` is
// one of its exports.
function loadPackage(dir) {
  let entry = 'index.js';
  const manifest = path.join(dir, 'package.json');
  if (fs.existsSync(manifest)) {
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    if (typeof pkg.main === 'string' && pkg.main !== '') entry = pkg.main;
  }
  const file = path.resolve(dir, entry);
  if (!fs.existsSync(file) && !fs.existsSync(file + '.js')) {
    throw new Error(`the zip has no ${entry} (package.json's main, else index.js)`);
  }
  return require(file);
}

function init(message) {
  for (const [name, value] of Object.entries(message.env || {})) process.env[name] = value;
  process.chdir(message.dir);
  const main = message.main || 'main';
  const exports = message.entry === message.dir ? loadPackage(message.dir) : loadFile(message.entry, main);
  const fn = exports && exports[main];
  if (typeof fn !== 'function') {
    throw new Error(`the action has no function '${main}' (define it, or export it as exports.${main})`);
  }
  return fn;
}

function describe(e) {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function run(fn, message) {
  for (const [key, value] of Object.entries(message)) {
    if (key !== 'value' && typeof value === 'string') process.env[`__OW_${key.toUpperCase()}`] = value;
  }
  let result;
  try {
    result = await fn(message.value === undefined ? {} : message.value);
  } catch (e) {
    // A thrown exception or a rejected Promise: an application error, with
    // the stack in the activation's log.
    if (e instanceof Error) {
      console.error(e.stack || describe(e));
      result = { error: `An error has occurred: ${describe(e)}` };
    } else if (e !== null && typeof e === 'object' && 'error' in e) {
      result = e; // Promise.reject({error: ...}) is the same as resolving with it
    } else {
      result = { error: e === undefined ? 'The action rejected its promise.' : e };
    }
  }
  if (result !== null && typeof result === 'object' && !Array.isArray(result) && result.error instanceof Error) {
    result = { error: describe(result.error) };
  }
  await flushWith(process.stdout, SENTINEL);
  await flushWith(process.stderr, SENTINEL);
  writeResult(result);
}

async function serve() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let fn = null;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const message = JSON.parse(line);
    if (fn === null) {
      try {
        fn = init(message.init || {});
        writeResult({ ok: true });
      } catch (e) {
        console.error(e instanceof Error && e.stack ? e.stack : describe(e));
        await flushWith(process.stderr, '');
        writeResult({ error: describe(e) });
        process.exit(1);
      }
      continue;
    }
    await run(fn, message);
  }
}

serve();
