// Service worker: show pushes as notifications, open the page on a tap. Registered under
// /board/ as well, where it also keeps the board's page and last snapshot for offline reading.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: event.data ? event.data.text() : "" };
  }
  const title = data.title || "值班助手";
  const options = {
    body: data.body || "",
    icon: "/push/static/icon.svg",
    badge: "/push/static/icon.svg",
    tag: data.tag || undefined,
    renotify: Boolean(data.tag),
    requireInteraction: data.kind === "emergency" || data.kind === "alert",
    data: { url: data.url || "/push/" },
  };
  event.waitUntil(
    self.registration.showNotification(title, options).then(() =>
      self.clients.matchAll({ type: "window" }).then((clients) => {
        for (const client of clients) client.postMessage({ type: "push", id: data.id });
      }),
    ),
  );
});

// Where a tap leads: a page of this site only. A push (a homeserver's pusher data, say) could
// otherwise name any site, and the phone would open it as if the office had sent it there.
function sameOriginUrl(value) {
  try {
    const url = new URL(value || "/push/", self.location.origin);
    if (url.origin === self.location.origin) return url;
  } catch {
    // not a URL at all
  }
  return new URL("/push/", self.location.origin);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = sameOriginUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((clients) => {
      for (const client of clients) {
        if (client.url === url.href && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(url.href);
    }),
  );
});

// -- The board, offline -------------------------------------------------------------------
// Only the worker whose scope is /board/ touches fetches: the push page stays as it was.
const BOARD_CACHE = "zhiban-board-v1";
const BOARD_SHELL = ["/board/", "/push/static/board.js", "/push/static/board.css", "/push/static/icon.svg"];

function isBoardWorker() {
  return new URL(self.registration.scope).pathname === "/board/";
}

self.addEventListener("install", (event) => {
  if (!isBoardWorker()) return;
  event.waitUntil(caches.open(BOARD_CACHE).then((cache) => cache.addAll(BOARD_SHELL)).catch(() => {}));
});

// Network first (the board must be current); the cache only when the network fails.
async function networkFirst(request, key) {
  const cache = await caches.open(BOARD_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (!cached) throw error;
    const headers = new Headers(cached.headers);
    headers.set("X-From-Cache", "1");
    return new Response(await cached.blob(), { status: 200, headers });
  }
}

self.addEventListener("fetch", (event) => {
  if (!isBoardWorker() || event.request.method !== "GET") return;
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || url.pathname === "/api/board/events") return;
  // A widget's board (bearer token, no cookie) is never kept: it may be another person's.
  if (event.request.headers.has("Authorization")) return;
  if (url.pathname === "/api/board") {
    const lang = url.searchParams.get("lang") === "en" ? "en" : "zh";
    event.respondWith(networkFirst(event.request, `/api/board?lang=${lang}`));
  } else if (BOARD_SHELL.includes(url.pathname)) {
    event.respondWith(networkFirst(event.request, url.pathname));
  }
});
