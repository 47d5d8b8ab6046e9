/* The dashboard's live client: one websocket per page, reconnecting with backoff.
 * Every event is re-dispatched as a DOM event "nmc:<type>" on <body> (htmx partials listen with
 * hx-trigger="nmc:call_missed from:body"), added to the activity feed if the page has one, and
 * missed calls raise a toast and a short sound, as the person chose on the profile (emergencies and
 * hand-offs are alerts.js's, from the "Needs you" state).
 * No text is written here: every string comes from the page (#nmc-live-config, rendered by Django
 * in the person's language), and times are shown in the business's time zone, as the server does. */
(function () {
  "use strict";
  var body = document.body;
  var path = body.dataset.liveUrl;
  var configEl = document.getElementById("nmc-live-config");
  var config = configEl ? JSON.parse(configEl.textContent) : { strings: { feed: {}, actors: {}, status: {} }, preferences: {} };
  var strings = config.strings;
  var prefs = config.preferences || {};
  var statusEl = document.getElementById("live-status");
  var attempt = 0;
  var heartbeat = null;
  var audio = null;
  var timeFormat;
  try {
    timeFormat = new Intl.DateTimeFormat(config.language || document.documentElement.lang, {
      hour: "numeric", minute: "2-digit", timeZone: config.timezone || "UTC"
    });
  } catch (error) { timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }); }

  function setStatus(state) {
    if (!statusEl) { return; }
    statusEl.dataset.state = state;
    statusEl.textContent = strings.status[state] || statusEl.textContent;
  }

  // Browsers refuse sound until the person interacts with the page: the first tap or key unlocks it.
  function unlockAudio() {
    if (audio || !prefs.sound) { return; }
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      audio = new Context();
      if (audio.state === "suspended") { audio.resume(); }
    } catch (error) { audio = null; }
  }
  ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, unlockAudio, { once: true, passive: true });
  });

  function beep() {
    if (!prefs.sound) { return; }
    unlockAudio();
    if (!audio) { return; }
    try {
      var oscillator = audio.createOscillator();
      oscillator.frequency.value = 880;
      oscillator.connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.15);
      body.dataset.lastBeep = String(Date.now());
    } catch (error) { /* Sound is a nicety. */ }
  }

  function toast(text, kind) {
    var box = document.getElementById("toasts");
    if (!box) { return; }
    var item = document.createElement("div");
    item.className = "toast toast-" + kind;
    item.setAttribute("role", "alert");
    item.textContent = text;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (match, name) { return values[name] || ""; });
  }

  // The same fields the server renders for a stored row (apps/analytics/feed.py: feed_entry).
  function entry(event) {
    var p = event.payload || {};
    var feed = event.feed || {};
    var number = feed.customer_number || p.from_number || p.customer_number || p.caller || "";
    var who = feed.customer_name || number || strings.a_caller;
    var text = feed.text !== undefined ? feed.text : (p.body || p.message || "");
    var template = strings.feed[event.type];
    return {
      who: who,
      number: feed.customer_name ? number : "",
      actor: feed.actor ? (strings.actors[feed.actor] || "") : "",
      text: event.type === "system_alert" ? "" : text,
      sentence: template ? format(template, { who: who, by: feed.actor_name || strings.actors.staff, text: text })
                         : event.type.replace(/_/g, " "),
      conversationId: feed.conversation_id || p.conversation_id || ""
    };
  }

  function addToFeed(event) {
    var feedList = document.getElementById("activity-feed");
    if (!feedList || !strings.feed[event.type]) { return; }
    if (event.feed && event.feed.shown === false) { return; }  // Not stored, so not shown after a reload either.
    var shown = entry(event);
    var empty = feedList.querySelector(".feed-empty");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "feed-item feed-" + event.type;
    item.dataset.eventType = event.type;
    if (event.feed && event.feed.feed_id) { item.dataset.feedId = event.feed.feed_id; }
    var time = document.createElement("time");
    var stamp = event.metadata && event.metadata.timestamp ? new Date(event.metadata.timestamp) : new Date();
    time.dateTime = stamp.toISOString();
    time.textContent = timeFormat.format(stamp);
    item.appendChild(time);
    item.appendChild(document.createTextNode(" "));
    var sentence = document.createElement("span");
    sentence.className = "feed-sentence";
    sentence.textContent = shown.sentence;
    item.appendChild(sentence);
    if (shown.number) {
      var small = document.createElement("a");
      small.className = "feed-number tel";
      small.href = "tel:" + shown.number;
      small.textContent = shown.number;
      item.appendChild(document.createTextNode(" "));
      item.appendChild(small);
    }
    if (shown.text) {
      var quote = document.createElement("q");
      quote.className = "feed-text";
      var actor = document.createElement("span");
      actor.className = "feed-actor";
      actor.textContent = shown.actor + ":";
      quote.appendChild(actor);
      quote.appendChild(document.createTextNode(" " + shown.text.slice(0, 200)));
      item.appendChild(quote);
    }
    if (shown.conversationId) {
      var link = document.createElement("a");
      link.className = "feed-link";
      link.href = config.thread_url.replace("{id}", shown.conversationId);
      link.textContent = strings.open_thread;
      item.appendChild(link);
    }
    feedList.insertBefore(item, feedList.firstChild);
    while (feedList.children.length > 50) { feedList.removeChild(feedList.lastChild); }
  }

  // The Inbox badge is the server's count for this person (unread or "Needs you"), re-read after
  // the events that change it, at most once per half second.
  var badgeTimer = null;
  function refreshInboxBadge() {
    if (!config.badge_url || badgeTimer) { return; }
    badgeTimer = setTimeout(function () {
      badgeTimer = null;
      fetch(config.badge_url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (counts) {
          if (!counts) { return; }
          document.querySelectorAll("[data-badge='inbox']").forEach(function (badge) {
            badge.textContent = String(counts.inbox);
            badge.hidden = !counts.inbox;
          });
        })
        .catch(function () { /* Offline: the next event re-reads it. */ });
    }, 500);
  }
  var INBOX_EVENTS = ["new_message", "system_alert", "dashboard_update", "human_takeover", "ai_takeover", "message_sent"];

  function bumpBadge(name) {
    document.querySelectorAll("[data-badge='" + name + "']").forEach(function (badge) {
      badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
      badge.hidden = false;
    });
  }

  function handle(event) {
    if (!event || !event.type) { return; }
    if (event.type === "connection_established") { attempt = 0; setStatus("live"); return; }
    if (event.type === "heartbeat_ack") { return; }
    addToFeed(event);
    // Before the toast and the sound: the pages that refresh on an event (figures, inbox, alerts)
    // must hear of it even if the browser refuses to play a sound.
    body.dispatchEvent(new CustomEvent("nmc:" + event.type, { detail: event }));
    var p = event.payload || {};
    if (INBOX_EVENTS.indexOf(event.type) !== -1) { refreshInboxBadge(); }
    if (event.type === "call_missed") {
      bumpBadge("calls");
      // Emergencies and hand-offs are alerts.js's: one toast, its alarm, from the "Needs you" state.
      if (prefs.toast_missed_call) { toast(entry(event).sentence, "missed"); beep(); }
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + path);
    socket.onmessage = function (message) {
      try { handle(JSON.parse(message.data)); } catch (error) { /* ignore malformed frames */ }
    };
    socket.onopen = function () {
      heartbeat = setInterval(function () { socket.send(JSON.stringify({ type: "heartbeat" })); }, 25000);
    };
    socket.onclose = function (closeEvent) {
      clearInterval(heartbeat);
      setStatus("offline");
      if (closeEvent.code === 4401 || closeEvent.code === 4403) { return; }  // Signed out: don't hammer.
      attempt += 1;
      setTimeout(connect, Math.min(30000, 500 * Math.pow(2, attempt)) + Math.random() * 500);
    };
  }

  // Installable as a web app: the service worker (served at /sw.js) shows push notifications.
  if ("serviceWorker" in navigator && (location.protocol === "https:" || location.hostname === "127.0.0.1" || location.hostname === "localhost")) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* Optional. */ });
  }

  window.nmcLive = { handle: handle, config: config };
  if (path) { connect(); }
})();
