// bench/load.mjs: the _changes listeners and the writers of bench/load.sh.
//
// Opens LISTENERS change feeds on one database (half longpoll, half
// continuous), waits until every one is connected, then runs WRITERS writers
// for DURATION seconds, each creating new documents one PUT at a time at up
// to WRITE_RATE a second. Afterwards it waits (up to DRAIN seconds) until
// every listener has seen every document, and prints one JSON object:
// errors, writes, write latency p50/p99 (ms), delivery latency p50/p99 (ms,
// from the moment a write was sent to the moment a listener read its change,
// over every listener and change), and how many listeners saw every change.
//
// Usage: node load.mjs COUCH_URL ADMIN_USER:PASSWORD
// Environment: LISTENERS=1000 WRITERS=50 DURATION=60 WRITE_RATE=4 DRAIN=60
import http from 'node:http';

const [couchUrl, admin] = process.argv.slice(2);
const LISTENERS = Number(process.env.LISTENERS ?? 1000);
const WRITERS = Number(process.env.WRITERS ?? 50);
const DURATION = Number(process.env.DURATION ?? 60);
const WRITE_RATE = Number(process.env.WRITE_RATE ?? 4);
const DRAIN = Number(process.env.DRAIN ?? 60);
const DB = 'load';

const base = new URL(couchUrl);
const auth = 'Basic ' + Buffer.from(admin).toString('base64');
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const errors = [];
const noteError = (what) => { if (errors.length < 20) errors.push(what); errors.count = (errors.count ?? 0) + 1; };

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, agent,
                               headers: { Authorization: auth, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A histogram of milliseconds at 0.1 ms resolution up to 120 s; its percentiles.
class Histogram {
  constructor() { this.bins = new Float64Array(1_200_001); this.n = 0; }
  add(ms) { this.bins[Math.min(this.bins.length - 1, Math.max(0, Math.round(ms * 10)))]++; this.n++; }
  percentile(p) {
    let want = Math.ceil(this.n * p / 100);
    for (let i = 0; i < this.bins.length; i++) { want -= this.bins[i]; if (want <= 0) return i / 10; }
    return NaN;
  }
}

const sentAt = new Map();  // document id -> performance.now() when its PUT was sent
const delivery = new Histogram();
const writeLatency = new Histogram();
let stopping = false;

class Listener {
  constructor(kind, since) { this.kind = kind; this.since = since; this.seen = 0; this.connected = false; this.req = null; }
  onChange(change) {
    if (!change.id) return;
    this.seen++;
    const sent = sentAt.get(change.id);
    if (sent !== undefined) delivery.add(performance.now() - sent);
  }
  start() { return this.kind === 'longpoll' ? this.poll() : this.stream(); }

  poll() {
    return new Promise((ready) => {
      const loop = () => {
        if (stopping) return;
        const req = http.request({ host: base.hostname, port: base.port, agent, headers: { Authorization: auth },
                                   path: `/${DB}/_changes?feed=longpoll&since=${encodeURIComponent(this.since)}&timeout=30000` },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c) => { text += c; });
            res.on('end', () => {
              if (res.statusCode !== 200) { noteError(`longpoll ${res.statusCode} ${text.slice(0, 100)}`); return setTimeout(loop, 100); }
              const body = JSON.parse(text);
              for (const change of body.results) this.onChange(change);
              this.since = body.last_seq;
              loop();
            });
          });
        req.on('socket', () => { if (!this.connected) { this.connected = true; ready(); } });
        req.on('error', (e) => { if (!stopping) { noteError(`longpoll ${e.message}`); setTimeout(loop, 100); } });
        req.end();
        this.req = req;
      };
      loop();
    });
  }

  stream() {
    return new Promise((ready) => {
      const req = http.request({ host: base.hostname, port: base.port, agent: false, headers: { Authorization: auth },
                                 path: `/${DB}/_changes?feed=continuous&since=${encodeURIComponent(this.since)}&heartbeat=10000` },
        (res) => {
          if (res.statusCode !== 200) { noteError(`continuous ${res.statusCode}`); ready(); return; }
          this.connected = true;
          ready();
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            buffer += chunk;
            let nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              if (line.trim() === '') continue;  // a heartbeat
              const change = JSON.parse(line);
              if (change.last_seq !== undefined) { if (!stopping) noteError('continuous feed ended'); continue; }
              this.onChange(change);
            }
          });
          res.on('error', (e) => { if (!stopping) noteError(`continuous ${e.message}`); });
        });
      req.on('error', (e) => { if (!stopping) noteError(`continuous ${e.message}`); ready(); });
      req.end();
      this.req = req;
    });
  }
}

async function writer(w, until) {
  const gap = 1000 / WRITE_RATE;
  for (let i = 0; performance.now() < until; i++) {
    const id = `w${w}-${i}`;
    const start = performance.now();
    sentAt.set(id, start);
    try {
      const r = await request('PUT', `/${DB}/${id}`, JSON.stringify({ writer: w, i, text: 'x'.repeat(200) }));
      if (r.status !== 201) noteError(`write ${r.status} ${r.text.slice(0, 100)}`);
      else writeLatency.add(performance.now() - start);
    } catch (e) {
      noteError(`write ${e.message}`);
    }
    const wait = start + gap - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

const created = await request('PUT', `/${DB}`);
if (created.status !== 201) throw new Error(`cannot create ${DB}: ${created.status} ${created.text}`);
const since = JSON.parse((await request('GET', `/${DB}`)).text).update_seq;
const listeners = [];
for (let i = 0; i < LISTENERS; i++) listeners.push(new Listener(i % 2 === 0 ? 'longpoll' : 'continuous', since));
// Connect in groups, so that the listen backlog is not the first thing measured.
for (let i = 0; i < listeners.length; i += 100) await Promise.all(listeners.slice(i, i + 100).map((l) => l.start()));
const connected = listeners.filter((l) => l.connected).length;
process.stderr.write(`load.mjs: ${connected} of ${LISTENERS} listeners connected; writing for ${DURATION} s\n`);

const until = performance.now() + DURATION * 1000;
await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w, until)));
const written = writeLatency.n;
const drainEnd = performance.now() + DRAIN * 1000;
const lagging = () => listeners.filter((l) => l.seen < written).length;
while (lagging() > 0 && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 100));
stopping = true;
for (const l of listeners) l.req?.destroy();
agent.destroy();

const seenAll = listeners.filter((l) => l.seen >= written).length;
const drainSeconds = (performance.now() - until) / 1000;
const laggards = listeners.filter((l) => l.seen < written).slice(0, 10)
  .map((l) => ({ kind: l.kind, seen: l.seen, since: l.kind === 'longpoll' ? l.since : undefined }));
console.log(JSON.stringify({
  listeners: LISTENERS, connected, writers: WRITERS, duration_s: DURATION,
  writes: written, write_p50_ms: writeLatency.percentile(50), write_p99_ms: writeLatency.percentile(99),
  deliveries: delivery.n, delivery_p50_ms: delivery.percentile(50), delivery_p99_ms: delivery.percentile(99),
  listeners_saw_every_change: seenAll, drain_s: drainSeconds, laggards, errors: errors.count ?? 0, first_errors: errors,
}));
