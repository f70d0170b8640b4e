// Service worker: the app shell (HTML, JS, CSS, onnxruntime-web's .mjs/.wasm, icons) is
// precached at install; model pack files are cached when a pack is loaded (the page posts their
// URLs) and served cache-first, so the page reloads and grades offline. The build (vite.config.ts,
// Workbox's injectManifest) fills PRECACHE below with every shell file and the hash of its
// content, so a new build downloads only the files that changed.
/* eslint-env serviceworker */
const PRECACHE = self.__WB_MANIFEST;
const SHELL_CACHE = 'agqg-shell';
const PACK_CACHE = 'agqg-packs-v1';
const SCOPE = new URL(self.registration.scope);
const MODELS = new URL('models/', SCOPE).pathname;
// Servers send `Vary: Origin`; module scripts and fetches carry an Origin header that the install-time
// requests did not, so matching must ignore Vary or every precached file misses.
const MATCH = { ignoreVary: true };

/** Absolute URL -> cache key: the URL with its content hash (hashed bundles are their own key). */
const KEYS = new Map();
for (const { url, revision } of PRECACHE) {
  const abs = new URL(url, SCOPE).href;
  KEYS.set(abs, revision ? `${abs}${abs.includes('?') ? '&' : '?'}__rev=${revision}` : abs);
}
const INDEX_KEY = KEYS.get(new URL('index.html', SCOPE).href);
if (INDEX_KEY) KEYS.set(new URL('./', SCOPE).href, INDEX_KEY);

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      const wanted = new Map();
      for (const [url, key] of KEYS) if (!wanted.has(key)) wanted.set(key, url);
      // A file whose content did not change keeps its key and is not downloaded again.
      await Promise.all(
        [...wanted].map(async ([key, url]) => {
          if (await cache.match(key, MATCH)) return;
          const res = await fetch(url, { cache: 'reload' });
          if (!res.ok) throw new Error(`precache ${url}: HTTP ${res.status}`);
          await cache.put(key, res);
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // Earlier builds kept one shell cache per build; now one cache holds files by content.
      for (const name of await caches.keys()) if (name.startsWith('agqg-shell-')) await caches.delete(name);
      const cache = await caches.open(SHELL_CACHE);
      const current = new Set(KEYS.values());
      for (const req of await cache.keys()) if (!current.has(req.url)) await cache.delete(req);
      await self.clients.claim();
    })(),
  );
});

function offlineMissing(url) {
  // 404, not a network error: packs probe for optional files, and "absent" is the truthful answer offline.
  return new Response(`${url} is not available offline`, {
    status: 404,
    headers: { 'content-type': 'text/plain', 'x-agqg-offline': '1' },
  });
}

async function putIfOk(cacheName, request, response) {
  if (response.ok && response.status === 200) {
    const cache = await caches.open(cacheName);
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request, cacheName) {
  try {
    return await putIfOk(cacheName, request, await fetch(request));
  } catch (err) {
    const hit = await caches.match(request, MATCH);
    if (hit) return hit;
    throw err;
  }
}

async function modelFile(request) {
  const url = new URL(request.url);
  if (request.method === 'HEAD') {
    try {
      return await fetch(request);
    } catch {
      const hit = await caches.match(url.href, MATCH);
      if (!hit) return offlineMissing(url.pathname);
      const size = (await hit.clone().arrayBuffer()).byteLength;
      return new Response(null, {
        status: 200,
        headers: { 'content-length': String(size), 'x-agqg-offline': '1' },
      });
    }
  }
  // JSON (the pack list, manifests, configs) may change between deploys: network first.
  if (url.pathname.endsWith('.json')) {
    try {
      return await networkFirst(request, PACK_CACHE);
    } catch {
      return offlineMissing(url.pathname);
    }
  }
  const hit = await caches.match(request, MATCH);
  if (hit) return hit;
  try {
    return await putIfOk(PACK_CACHE, request, await fetch(request));
  } catch {
    return offlineMissing(url.pathname);
  }
}

async function shellFile(request) {
  const key = KEYS.get(request.url.split('#')[0]);
  const hit = key && (await (await caches.open(SHELL_CACHE)).match(key, MATCH));
  if (hit) return hit;
  return fetch(request);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || (request.method !== 'GET' && request.method !== 'HEAD')) return;
  if (url.pathname.startsWith(MODELS)) {
    event.respondWith(modelFile(request));
    return;
  }
  if (request.method !== 'GET') return;
  if (request.mode === 'navigate') {
    // Fresh HTML when online (it names the current hashed bundles); the precached shell when not.
    event.respondWith(
      (async () => {
        try {
          return await fetch(request);
        } catch {
          const cache = await caches.open(SHELL_CACHE);
          return (INDEX_KEY && (await cache.match(INDEX_KEY, MATCH))) ?? Response.error();
        }
      })(),
    );
    return;
  }
  event.respondWith(shellFile(request));
});

/** The page posts {type: 'cache-pack', urls} after loading a served pack; replies {cached, failed}. */
self.addEventListener('message', (event) => {
  const data = event.data;
  if (!data || data.type !== 'cache-pack' || !Array.isArray(data.urls)) return;
  const port = event.ports[0];
  event.waitUntil(
    (async () => {
      const cache = await caches.open(PACK_CACHE);
      let cached = 0;
      const failed = [];
      for (const u of data.urls) {
        try {
          const url = new URL(u, SCOPE);
          if (url.origin !== SCOPE.origin || !url.pathname.startsWith(MODELS))
            throw new Error('outside models/');
          if (!(await cache.match(url.href, MATCH))) {
            const res = await fetch(url.href);
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            await cache.put(url.href, res);
          }
          cached++;
        } catch (err) {
          failed.push(`${u}: ${err && err.message ? err.message : String(err)}`);
        }
      }
      port?.postMessage({ cached, failed });
    })(),
  );
});
