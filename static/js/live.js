/* The dashboard's live client: one websocket per page, reconnecting with backoff.
 * Every event is re-dispatched as a DOM event "nmc:<type>" on <body> (htmx partials listen with
 * hx-trigger="nmc:call_missed from:body"), appended to the activity feed if the page has one, and
 * missed calls and emergencies raise a toast and a short sound. */
(function () {
  "use strict";
  var body = document.body;
  var path = body.dataset.liveUrl;
  if (!path) { return; }
  var statusEl = document.getElementById("live-status");
  var attempt = 0;
  var heartbeat = null;
  var labels = {
    connecting: statusEl ? statusEl.textContent : "Connecting…",
    live: document.documentElement.lang === "es" ? "En vivo" : "Live",
    offline: document.documentElement.lang === "es" ? "Sin conexión, reintentando…" : "Offline, retrying…"
  };

  function setStatus(state) {
    if (!statusEl) { return; }
    statusEl.dataset.state = state;
    statusEl.textContent = labels[state];
  }

  function beep() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      var context = new Context();
      var oscillator = context.createOscillator();
      oscillator.frequency.value = 880;
      oscillator.connect(context.destination);
      oscillator.start();
      oscillator.stop(context.currentTime + 0.15);
    } catch (error) { /* Sound is a nicety; browsers may refuse it before a user gesture. */ }
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

  function describe(event) {
    var p = event.payload || {};
    var who = p.caller || p.from_number || p.customer_phone || "";
    var customer = p.customer_number || p.to_number || who;
    switch (event.type) {
      case "incoming_call": return "Incoming call " + who;
      case "call_missed": return "Missed call " + who;
      case "call_answered": return "Answered " + who;
      case "call_ended": return "Call ended " + who;
      case "new_message": return "Text from " + who + ": " + (p.body || "");
      case "message_sent": return "Text sent to " + (p.to_number || who);
      case "message_delivered": return "Delivered to " + (p.to_number || who);
      case "human_takeover": return "Taken over by " + (p.user_email || "staff");
      case "ai_response": return "AI replied to " + customer;
      case "system_alert":  // Typed alerts carry their message (never a bare "system alert").
        return [p.customer_name || p.customer_number || p.customer_phone, p.message].filter(Boolean).join(": ") ||
          event.type.replace(/_/g, " ");
      default: return event.type.replace(/_/g, " ");
    }
  }

  function addToFeed(event) {
    var feed = document.getElementById("activity-feed");
    if (!feed) { return; }
    var item = document.createElement("li");
    item.className = "feed-item feed-" + event.type;
    item.dataset.eventType = event.type;
    var time = document.createElement("time");
    time.dateTime = event.metadata && event.metadata.timestamp;
    time.textContent = new Date().toLocaleTimeString();
    item.appendChild(time);
    item.appendChild(document.createTextNode(" " + describe(event)));
    feed.insertBefore(item, feed.firstChild);
    while (feed.children.length > 50) { feed.removeChild(feed.lastChild); }
  }

  function handle(event) {
    if (!event || !event.type) { return; }
    if (event.type === "connection_established") { attempt = 0; setStatus("live"); return; }
    if (event.type === "heartbeat_ack") { return; }
    addToFeed(event);
    var urgent = event.type === "call_missed" || (event.payload && event.payload.is_emergency);
    if (urgent) {
      toast(describe(event), event.payload && event.payload.is_emergency ? "emergency" : "missed");
      beep();
    }
    body.dispatchEvent(new CustomEvent("nmc:" + event.type, { detail: event }));
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

  window.nmcLive = { handle: handle };
  connect();
})();
