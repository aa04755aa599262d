// The service worker: keeps the app shell so the dashboard opens with no
// network. Shell files are fetched from the network first (so a new wisp
// serves a new app at once) and from the cache when that fails. The store
// (/db/) and the OpenWhisk API (/api/) are never cached: PouchDB's local
// copies are the offline data.
const CACHE = 'wisp-shell-v2';
const SHELL = [
  './', 'index.html', 'icon.svg', 'manifest.webmanifest', 'app/style.css', 'app/main.js', 'app/data.js',
  'app/query.js', 'app/ops.js', 'vendor/pouchdb.min.js', 'vendor/purify.min.js', 'vendor/uPlot.iife.min.js',
  'vendor/uPlot.min.css',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  if (event.request.method !== 'GET' || url.origin !== scope.origin) return;
  const path = url.pathname.slice(scope.pathname.length);
  if (path.startsWith('db/') || path === 'db' || path.startsWith('api/')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) cache.put(event.request, response.clone());
      return response;
    } catch (e) {
      const cached = await cache.match(event.request, { ignoreSearch: true })
        || (event.request.mode === 'navigate' ? await cache.match('index.html') : undefined);
      if (cached) return cached;
      throw e;
    }
  })());
});
