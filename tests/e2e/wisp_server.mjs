// Starts a real `wisp serve` on free loopback ports for a test, and stops it.
// The binary comes from $WISP_BIN, or build/wisp in the repository.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const wispBin = process.env.WISP_BIN || path.resolve(here, '../../build/wisp');

export const ADMIN = { name: 'admin', password: 'e2e-secret' };

// A test that runs an executable built by this tree as an action skips
// with this reason in a sanitizer build (tests/CMakeLists.txt sets
// WISP_SANITIZER): the sanitizer's shadow memory counts against the
// action's memory limit (RLIMIT_DATA), so the child cannot start, and an
// instrumented binary is several times the size OpenWhisk allows for code.
export const sanitizedActionsSkip = process.env.WISP_SANITIZER
  ? `${process.env.WISP_SANITIZER} sanitizer build: its executables cannot run under an action's memory limit`
  : false;

// Resolves when `check` passes, re-checking the condition until the deadline.
export async function eventually(check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { return await check(); } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 50));  // re-check the condition, bounded by the deadline
  }
  throw last;
}

// Resolves once the banner has printed both ports. `dataDir` reuses a
// directory (for restarts); otherwise a fresh one is made and removed on stop.
// `ports` ({api, couch}) asks for given ports (a restart where clients
// expect the old ones); otherwise free ones are picked.
export async function startWisp({ dataDir, extraArgs = [], ports: wanted = { api: 0, couch: 0 } } = {}) {
  const ownDir = !dataDir;
  const dir = dataDir || mkdtempSync(path.join(tmpdir(), 'wisp-e2e-'));
  const child = spawn(wispBin, [
    'serve', '--data-dir', dir, '--api-port', String(wanted.api), '--couch-port', String(wanted.couch),
    '--admin', `${ADMIN.name}:${ADMIN.password}`, '--log-level', 'warn', ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });

  const ports = await new Promise((resolve, reject) => {
    let out = '';
    const found = {};
    const timer = setTimeout(() => reject(new Error(`wisp did not start: ${out}`)), 20000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const api = out.match(/OpenWhisk API\s+https?:\/\/[^:]+:(\d+)/);
      const couch = out.match(/CouchDB API\s+https?:\/\/[^:]+:(\d+)/);
      if (api) found.api = Number(api[1]);
      if (couch) found.couch = Number(couch[1]);
      if (found.api && found.couch) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.on('exit', (code) => reject(new Error(`wisp exited with ${code}: ${out}`)));
  });

  const couchUrl = `http://127.0.0.1:${ports.couch}`;
  const authUrl = `http://${ADMIN.name}:${ADMIN.password}@127.0.0.1:${ports.couch}`;
  return {
    dir, ports, couchUrl, authUrl, child,
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir && !keepData) rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
