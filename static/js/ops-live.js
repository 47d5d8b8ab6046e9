// The operator page's live events (/ws/ops/, platform staff only): each one is re-dispatched on
// <body> as "nmc:<type>", so the system alerts section (hx-trigger="nmc:system_alert from:body")
// reloads when an alert is raised, acknowledged or resolved. Reconnects with capped backoff.
(function () {
  "use strict";
  var status = document.getElementById("ops-live-status");
  if (!status) return;
  var attempt = 0;
  var heartbeat = null;

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + status.dataset.liveUrl);
    status.dataset.state = "connecting";
    socket.onopen = function () {
      attempt = 0;
      status.dataset.state = "live";
      heartbeat = setInterval(function () { socket.send(JSON.stringify({ type: "heartbeat" })); }, 25000);
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (!event.type || event.type === "heartbeat_ack") return;
      document.body.dispatchEvent(new CustomEvent("nmc:" + event.type, { detail: event }));
    };
    socket.onclose = function (closed) {
      clearInterval(heartbeat);
      status.dataset.state = "closed";
      if (closed.code === 4401 || closed.code === 4403) return;  // Not staff: retrying cannot help.
      attempt += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }
  connect();
})();
