// bench/store/load.mjs: drive one CouchDB-compatible server through the store cases.
//
//   node bench/store/load.mjs --url http://127.0.0.1:PORT [--auth user:pw] --docs FILE
//        [--batch 1000] [--clients 32] [--puts 20000] [--gets 20000] [--repl-batch 100]
//        [--timeout-ms 120000]
//
// Cases, in this order, each against a fresh database:
//   bulk     POST /bench/_bulk_docs, the documents of FILE (one JSON text a line) in
//            batches of --batch, one request at a time; docs/s
//   changes  GET /bench/_changes (normal feed), all rows; seconds and rows/s
//   repl     PouchDB (memory adapter) pulls /bench: seconds
//   put      PUT /bench_put/ID of --puts new documents from --clients concurrent clients
//   get      GET /bench/ID of --gets random ids of FILE from --clients concurrent clients
//   all_docs GET /bench/_all_docs?include_docs=true, one request, the whole body read;
//            seconds and MB/s (10^6 bytes) of response body
//   push     PouchDB (memory adapter), filled locally (untimed) with the documents of
//            FILE, pushes them to /bench_push: seconds
// Prints one JSON object on stdout. Every failed request is counted; the first one
// of each case is kept (request and response) in the output.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import { makeGenerator } from './docs.mjs';

PouchDB.plugin(memoryAdapter);

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    auth: { type: 'string', default: '' },
    docs: { type: 'string' },
    batch: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '32' },
    puts: { type: 'string', default: '20000' },
    gets: { type: 'string', default: '20000' },
    'repl-batch': { type: 'string', default: '100' },
    'timeout-ms': { type: 'string', default: '120000' },
    seed: { type: 'string', default: '42' },
  },
});
const base = new URL(opt.url);
const batch = Number(opt.batch);
const clients = Number(opt.clients);
const puts = Number(opt.puts);
const gets = Number(opt.gets);
const replBatch = Number(opt['repl-batch']);
const timeoutMs = Number(opt['timeout-ms']);
const authHeader = opt.auth ? 'Basic ' + Buffer.from(opt.auth).toString('base64') : null;
const agent = new http.Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients });

const lines = readFileSync(opt.docs, 'utf8').split('\n').filter((l) => l.length > 0);
const ids = lines.map((l) => JSON.parse(l)._id);
const N = lines.length;

// Resolves to {status, headers, body}; body is a string, or the Buffer when `raw`.
function request(method, path, body, raw = false) {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'application/json' };
    if (authHeader) headers.authorization = authHeader;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request(
      { host: base.hostname, port: base.port, method, path, headers, agent, timeout: timeoutMs },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, body: raw ? buf : buf.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const short = (s, n = 600) => (s.length > n ? s.slice(0, n) + `... (${s.length} bytes)` : s);

function failure(method, path, body, res, err) {
  return {
    request: `${method} ${path}` + (body !== undefined ? ` body: ${short(body, 300)}` : ''),
    response: res ? `${res.status} ${short(res.body)}` : `error: ${err && err.message}`,
  };
}

// Runs `count` operations from `clients` concurrent loops; op(i) returns {ok, fail}.
async function concurrent(count, op) {
  let next = 0;
  let errors = 0;
  let first = null;
  const t0 = now();
  await Promise.all(
    Array.from({ length: Math.min(clients, count) }, async () => {
      while (next < count) {
        const i = next++;
        const r = await op(i);
        if (!r.ok) {
          errors++;
          first ??= r.fail;
        }
      }
    }),
  );
  const seconds = now() - t0;
  return { count, seconds, per_sec: count / seconds, errors, first_error: first };
}

async function mustOk(method, path, body, okStatuses = [200, 201, 202]) {
  const res = await request(method, path, body);
  if (!okStatuses.includes(res.status)) {
    throw new Error(`${method} ${path} -> ${res.status} ${short(res.body)}`);
  }
  return res;
}

async function freshDb(name) {
  await request('DELETE', `/${name}`);
  await mustOk('PUT', `/${name}`);
}

// A PouchDB handle on the server's database `name` (which must exist), with --auth.
function remoteDb(name) {
  const remoteOpts = { skip_setup: true };
  if (opt.auth) {
    const [username, ...rest] = opt.auth.split(':');
    remoteOpts.auth = { username, password: rest.join(':') };
  }
  return new PouchDB(new URL(`/${name}`, base).href, remoteOpts);
}

const out = { n: N, batch, clients };

// ------------------------------------------------------------------ bulk
await freshDb('bench');
{
  const bodies = [];
  for (let i = 0; i < N; i += batch) bodies.push('{"docs":[' + lines.slice(i, i + batch).join(',') + ']}');
  let errors = 0;
  let first = null;
  const t0 = now();
  for (const body of bodies) {
    let res, err;
    try {
      res = await request('POST', '/bench/_bulk_docs', body);
    } catch (e) {
      err = e;
    }
    let bad = !res || res.status !== 201;
    if (!bad) {
      const rows = JSON.parse(res.body);
      const failed = rows.filter((r) => !r.ok && !r.rev);
      if (failed.length) {
        errors += failed.length;
        first ??= { request: 'POST /bench/_bulk_docs', response: `201 with ${failed.length} failed rows, e.g. ${JSON.stringify(failed[0])}` };
      }
    } else {
      errors += batch;
      first ??= failure('POST', '/bench/_bulk_docs', body, res, err);
    }
  }
  const seconds = now() - t0;
  out.bulk = { docs: N, seconds, per_sec: N / seconds, errors, first_error: first };
}

// ------------------------------------------------------------------ changes
{
  const t0 = now();
  const res = await mustOk('GET', '/bench/_changes');
  const rows = JSON.parse(res.body).results.length;
  const seconds = now() - t0;
  out.changes = { rows, seconds, per_sec: rows / seconds, bytes: Buffer.byteLength(res.body), complete: rows === N };
}

// ------------------------------------------------------------------ replication
{
  const remote = remoteDb('bench');
  const local = new PouchDB(`pull-${Date.now()}`, { adapter: 'memory' });
  const t0 = now();
  const result = await local.replicate.from(remote, { batch_size: replBatch });
  const seconds = now() - t0;
  const info = await local.info();
  out.repl = {
    seconds,
    docs_written: result.docs_written,
    doc_count: info.doc_count,
    complete: info.doc_count === N,
    errors: result.errors.length,
    batch_size: replBatch,
  };
  await local.destroy();
}

// ------------------------------------------------------------------ put
await freshDb('bench_put');
{
  const gen = makeGenerator(Number(opt.seed));
  const docs = Array.from({ length: puts }, (_, i) => {
    const d = JSON.parse(gen(i, 'p'));
    const id = d._id;
    delete d._id;
    return [id, JSON.stringify(d)];
  });
  out.put = await concurrent(puts, async (i) => {
    const [id, body] = docs[i];
    const path = `/bench_put/${id}`;
    try {
      const res = await request('PUT', path, body);
      return res.status === 201 || res.status === 202 ? { ok: true } : { ok: false, fail: failure('PUT', path, body, res) };
    } catch (e) {
      return { ok: false, fail: failure('PUT', path, body, null, e) };
    }
  });
}

// ------------------------------------------------------------------ get
{
  // Deterministic pseudo-random ids (xorshift), the same sequence for every server.
  let x = 2463534242;
  const pickIds = Array.from({ length: gets }, () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return ids[x % N];
  });
  out.get = await concurrent(gets, async (i) => {
    const path = `/bench/${pickIds[i]}`;
    try {
      const res = await request('GET', path);
      return res.status === 200 ? { ok: true } : { ok: false, fail: failure('GET', path, undefined, res) };
    } catch (e) {
      return { ok: false, fail: failure('GET', path, undefined, null, e) };
    }
  });
}

// ------------------------------------------------------------------ all_docs
{
  const path = '/bench/_all_docs?include_docs=true';
  const t0 = now();
  const res = await request('GET', path, undefined, true);
  const seconds = now() - t0;
  if (res.status !== 200) throw new Error(`GET ${path} -> ${res.status} ${short(res.body.toString('utf8'))}`);
  const bytes = res.body.length;
  const rows = JSON.parse(res.body.toString('utf8')).rows;
  const docs = rows.filter((r) => r.doc && typeof r.doc === 'object' && r.doc._id === r.id).length;
  out.all_docs = {
    rows: rows.length,
    docs,
    seconds,
    per_sec: rows.length / seconds,
    bytes,
    mb_per_sec: bytes / 1e6 / seconds,
    complete: rows.length === N && docs === N,
  };
}

// ------------------------------------------------------------------ push
await freshDb('bench_push');
{
  const remote = remoteDb('bench_push');
  const local = new PouchDB(`push-${Date.now()}`, { adapter: 'memory' });
  for (let i = 0; i < N; i += batch) {
    const failed = (await local.bulkDocs(lines.slice(i, i + batch).map((l) => JSON.parse(l)))).filter((r) => !r.ok);
    if (failed.length) throw new Error(`filling the local PouchDB: ${JSON.stringify(failed[0])}`);
  }
  const t0 = now();
  const result = await local.replicate.to(remote, { batch_size: replBatch });
  const seconds = now() - t0;
  const docCount = JSON.parse((await mustOk('GET', '/bench_push', undefined, [200])).body).doc_count;
  out.push = {
    seconds,
    docs_written: result.docs_written,
    doc_count: docCount,
    complete: docCount === N,
    errors: result.errors.length,
    batch_size: replBatch,
  };
  await local.destroy();
}

agent.destroy();
console.log(JSON.stringify(out));
