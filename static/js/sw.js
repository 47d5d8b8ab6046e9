/* NeverMissCall's service worker: served at /sw.js (scope "/") so the dashboard installs as a web
 * app. It shows push notifications (missed calls, emergencies) and opens the right page on a tap.
 * No offline caching of pages: a dashboard showing stale calls would be worse than "offline". */
self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
self.addEventListener("fetch", function () { /* Network only; present so browsers offer to install. */ });
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = { title: event.data && event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "NeverMissCall", {
    body: data.body || "",
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    tag: data.tag || undefined,  // A repeated push (a retry) replaces the first instead of showing twice.
    renotify: Boolean(data.tag),
    requireInteraction: true,
    data: { url: data.url || "/" }
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.matchAll({ type: "window" }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if ("focus" in windows[i]) { windows[i].navigate(url); return windows[i].focus(); }
    }
    return self.clients.openWindow(url);
  }));
});
