// The operator page's live log: the latest lines, then each new one from /api/logs/stream.
(function () {
  "use strict";
  var pre = document.getElementById("live-log");
  if (!pre) return;
  var statusEl = document.getElementById("log-status");
  var levelEl = document.getElementById("log-level");
  var socket = null;
  var MAX_LINES = 500;

  function line(entry) {
    var text = entry.timestamp + " " + entry.level + " [" + (entry.process_role || "-") + " " +
      (entry.business || "-") + " " + (entry.request_id || "-") + "] " + entry.logger + ": " + entry.message + "\n";
    pre.appendChild(document.createTextNode(text));
    while (pre.childNodes.length > MAX_LINES) pre.removeChild(pre.firstChild);
    pre.scrollTop = pre.scrollHeight;
  }

  function setStatus(key) { statusEl.textContent = statusEl.dataset[key] || ""; }

  function connect() {
    if (socket) socket.close();
    pre.textContent = "";
    var level = levelEl.value;
    fetch(pre.dataset.latestUrl + "?lines=100&level=" + level, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { logs: [] }; })
      .then(function (body) { body.logs.forEach(line); });
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + pre.dataset.streamUrl + "?level=" + level);
    setStatus("connecting");
    socket.onopen = function () { setStatus("live"); };
    socket.onclose = function () { setStatus("closed"); };
    socket.onmessage = function (event) { line(JSON.parse(event.data)); };
  }

  levelEl.addEventListener("change", connect);
  connect();
})();
