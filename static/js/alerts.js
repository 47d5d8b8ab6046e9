/* Urgent things impossible to miss (docs/dashboard.md, "Urgent alerts").
 * The server keeps "Needs you" as state; this script shows it on every dashboard page:
 * - a pinned banner (server-rendered partial, /inbox/alerts/, refetched on every alert or clear),
 *   with a tap-to-call button per conversation;
 * - for each new alert (a live "system_alert" whose payload.alert_type is "needs_you"): a toast with
 *   the customer's message, a distinct sound and a browser notification, once the owner allowed
 *   them with the "Turn on alerts" button (a user gesture, as browsers require), and as the person's
 *   profile chose (emergency alerts and sounds can be turned off there; the banner always shows).
 * Every word shown comes from the server's templates (translated); none is written here. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.alertsUrl;
  var main = document.getElementById("main") || document.querySelector("main");
  if (!url || !main) { return; }
  var STORE = "nmc.alerts";  // "on" | "off" (unset: ask)
  var slot = document.getElementById("nmc-alerts");
  if (!slot) {
    slot = document.createElement("div");
    slot.id = "nmc-alerts";
    slot.className = "nmc-alerts";
    main.insertBefore(slot, main.firstChild);
  }
  var audio = null;
  var state = { sounds: 0, notifications: 0, toasts: 0 };
  var configEl = document.getElementById("nmc-live-config");
  var prefs = (configEl && JSON.parse(configEl.textContent).preferences) || {};

  function preference() {
    try { return localStorage.getItem(STORE); } catch (error) { return null; }
  }
  function setPreference(value) {
    try { localStorage.setItem(STORE, value); } catch (error) { /* private mode: ask again next time */ }
  }

  function audioContext() {
    if (!audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) { return null; }
      audio = new Context();
    }
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }

  // Three falling two-tone beeps: unlike the single short tone of a missed call.
  function alarm() {
    var context = audioContext();
    if (!context) { return; }
    var start = context.currentTime + 0.02;
    [988, 740, 988, 740, 988, 740].forEach(function (frequency, index) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = frequency;
      gain.gain.value = 0.08;
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(start + index * 0.16);
      oscillator.stop(start + index * 0.16 + 0.13);
    });
    state.sounds += 1;
  }

  function notify(title, body, href) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    try {
      var notification = new Notification(title, { body: body, tag: href, requireInteraction: true });
      notification.onclick = function () { window.focus(); location.href = href; };
      state.notifications += 1;
    } catch (error) { /* Some browsers only notify from a service worker. */ }
  }

  function toast(title, body, href) {
    var box = document.getElementById("toasts");
    if (!box) { return; }
    var item = document.createElement("a");
    item.className = "toast toast-emergency toast-needs-you";
    item.href = href;
    item.setAttribute("role", "alert");
    var strong = document.createElement("strong");
    strong.textContent = title;
    item.appendChild(strong);
    if (body) { item.appendChild(document.createElement("br")); item.appendChild(document.createTextNode(body)); }
    box.appendChild(item);
    state.toasts += 1;
    setTimeout(function () { item.remove(); }, 15000);
  }

  // Web Push: this browser subscribes with the deployment's VAPID key and tells the server, which
  // then pushes emergencies and hand-offs to it even when no dashboard tab is open (sw.js shows them).
  var push = (configEl && JSON.parse(configEl.textContent).push) || {};
  function pushSupported() {
    return Boolean(push.key && "serviceWorker" in navigator && "PushManager" in window);
  }
  function keyBytes(base64url) {
    var text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4));
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
    return bytes;
  }
  function subscribePush() {
    if (!pushSupported() || Notification.permission !== "granted") { return Promise.resolve(false); }
    return navigator.serviceWorker.ready
      .then(function (registration) {
        return registration.pushManager.getSubscription().then(function (existing) {
          return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(push.key) });
        });
      })
      .then(function (subscription) {
        var csrf = document.querySelector("meta[name='csrf-token']");
        return fetch(push.url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
          body: JSON.stringify(subscription.toJSON())
        }).then(function (response) { return response.ok; });
      })
      .catch(function () { return false; });  // No push service here (some browsers, private windows).
  }

  function wireProfileButton() {
    var button = document.getElementById("push-subscribe");
    if (!button) { return; }
    if (!pushSupported()) {
      var unsupported = document.getElementById("push-unsupported");
      if (unsupported) { unsupported.hidden = false; }
      return;
    }
    button.hidden = false;
    button.onclick = function () {
      var asked = Notification.permission === "default" ? Notification.requestPermission() : Promise.resolve();
      asked.then(subscribePush).then(function (done) { if (done) { location.reload(); } });
    };
  }

  function showSwitch() {
    var box = document.getElementById("alerts-switch");
    if (!box) { return; }
    box.hidden = preference() === "on" || preference() === "off";
    var enable = document.getElementById("alerts-enable");
    var dismiss = document.getElementById("alerts-dismiss");
    if (enable) {
      enable.onclick = function () {
        setPreference("on");
        audioContext();  // Created in the gesture, so later alarms may play.
        if ("Notification" in window && Notification.permission === "default") {
          Notification.requestPermission().then(subscribePush).then(showSwitch, showSwitch);
        } else {
          subscribePush();
        }
        alarm();  // The owner hears what an alert sounds like.
        showSwitch();
      };
    }
    if (dismiss) { dismiss.onclick = function () { setPreference("off"); showSwitch(); }; }
  }

  function refresh() {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        slot.innerHTML = html;
        showSwitch();
      })
      .catch(function () { /* Offline: the live client reconnects and the next alert refetches. */ });
  }

  function onAlert(event) {
    var payload = (event.detail && event.detail.payload) || {};
    if (payload.alert_type !== "needs_you") { return; }
    refresh().then(function () {
      var item = slot.querySelector('.needs-you-item[data-conversation-id="' + payload.conversation_id + '"]');
      if (!item) { return; }  // Handled already by someone else.
      var href = item.querySelector("a[href^='/inbox/']").getAttribute("href");
      // The banner always shows it; the toast, alarm and notification follow the person's profile
      // (emergency alerts can be turned off there, and so can sounds).
      if (item.dataset.reason === "emergency" && prefs.toast_emergency === false) { return; }
      toast(item.dataset.title, item.dataset.body, href);
      if (preference() === "on") {
        if (prefs.sound !== false) { alarm(); }
        notify(item.dataset.title, item.dataset.body, href);
      }
    });
  }

  // Browsers unlock sound per page on a gesture: the first tap or key anywhere re-arms it.
  function arm() {
    if (preference() === "on") { audioContext(); }
    document.removeEventListener("pointerdown", arm);
    document.removeEventListener("keydown", arm);
  }
  document.addEventListener("pointerdown", arm);
  document.addEventListener("keydown", arm);

  document.body.addEventListener("nmc:system_alert", onAlert);
  document.body.addEventListener("nmc:dashboard_update", function (event) {
    var payload = (event.detail && event.detail.payload) || {};
    if (payload.needs_you === false) { refresh(); }
  });
  window.nmcAlerts = { state: state, refresh: refresh, subscribePush: subscribePush };
  wireProfileButton();
  refresh();
})();
