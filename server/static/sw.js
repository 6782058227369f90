// Service worker: show pushes as notifications, open the page on a tap.
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
