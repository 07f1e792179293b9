/* The status page's service worker (served as /t/sw.js, scope /t/): shows the server's Web Push
 * messages ("Còn 2 người trước bạn", "Mời bạn đến quầy số 3") even when the page is closed, and
 * a tap on one brings the ticket's page back. The page registers it as sw.js?lang=vi|en, so the
 * notification speaks the language the citizen chose; Vietnamese when unsure.
 */
"use strict";

const LANG = new URL(self.location.href).searchParams.get("lang") === "en" ? "en" : "vi";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let msg = {};
  try {
    msg = event.data ? event.data.json() : {};
  } catch (e) {
    msg = {};
  }
  const body = (LANG === "en" && msg.text_en) || msg.text_vi || msg.text_en || "";
  const called = msg.event === "called";
  event.waitUntil(self.registration.showNotification("motcua", {
    body,
    lang: LANG,
    tag: "motcua-" + (msg.code || "ticket"), // a newer message about the ticket replaces the older one
    renotify: true,
    requireInteraction: called,
    vibrate: called ? [300, 150, 300, 150, 300] : [200],
    data: { url: msg.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (url.origin !== self.location.origin) return; // only this server's pages
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of open) {
      if (new URL(client.url).pathname === url.pathname && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(url.href);
  })());
});
