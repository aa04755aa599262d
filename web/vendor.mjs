// Copies the browser builds of the dashboard's npm dependencies (pinned by
// package-lock.json) into vendor/, where index.html loads them and where the
// build embeds them from. npm runs it after `npm ci` / `npm install`.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = {
  'pouchdb.min.js': 'node_modules/pouchdb/dist/pouchdb.min.js',
  'purify.min.js': 'node_modules/dompurify/dist/purify.min.js',
  'uPlot.iife.min.js': 'node_modules/uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'node_modules/uplot/dist/uPlot.min.css',
};
mkdirSync(path.join(here, 'vendor'), { recursive: true });
for (const [name, from] of Object.entries(files)) {
  copyFileSync(path.join(here, from), path.join(here, 'vendor', name));
}
