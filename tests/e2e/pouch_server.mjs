// pouchdb-server 4.2.0 as a second, independent CouchDB-compatible server
// for the tests: a child process on a free loopback port, with its config,
// log and (unless in memory) its databases in a temporary directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { eventually } from './wisp_server.mjs';

export { eventually };

const here = path.dirname(fileURLToPath(import.meta.url));
const pouchServerBin = path.join(here, 'node_modules/pouchdb-server/bin/pouchdb-server');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts pouchdb-server. `inMemory` (default) loses every database when it
// stops; otherwise they are LevelDB files in its directory, and restart()
// brings the same server back on the same port. `admin` ({name, password})
// ends the admin party: the admin is written to its config, and every
// request then needs credentials (basic or its _session cookie).
export async function startPouchServer({ inMemory = true, admin } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'wisp-pouchdb-server-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child;
  const launch = async () => {
    child = spawn(process.execPath, [
      pouchServerBin, '--port', String(port), '--host', '127.0.0.1', ...(inMemory ? ['--in-memory'] : []),
      '--no-stdout-logs', '--config', path.join(dir, 'config.json'), '--dir', dir,
    ], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    await eventually(async () => {
      const r = await fetch(`${url}/`);
      assert.equal(r.status, 200);
    }, 30000);
  };
  await launch();
  if (admin) {
    const r = await fetch(`${url}/_config/admins/${admin.name}`, { method: 'PUT', body: JSON.stringify(admin.password) });
    assert.equal(r.status, 200);
  }
  const exit = async (signal) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  return {
    url,
    port,
    dir,
    // Kills it at once (SIGKILL): a crash, or a cut cable.
    async kill() { await exit('SIGKILL'); },
    // The same server again, on the same port and directory.
    async restart() { await launch(); },
    async stop() {
      await exit('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
