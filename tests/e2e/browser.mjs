// Launches Debian's chromium (not a browser that Playwright downloads) through
// playwright-core, headless, for the browser tests. The binary comes from
// $CHROMIUM, or /usr/bin/chromium (tools/setup.sh installs it).
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// `args` are extra chromium switches, e.g. the SPKI pin of a test certificate.
export async function launchBrowser({ args = [] } = {}) {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', ...args],
  });
}

// A tiny static origin on a free loopback port: every GET answers `html`.
// Browser tests load a page from here to call wisp from another origin.
export async function startOrigin(html) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
