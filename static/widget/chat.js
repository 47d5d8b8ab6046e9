// The chat page inside the widget's iframe: start a session, send turns, show replies.
(function () {
  "use strict";
  var root = document.querySelector(".nmc-chat");
  var token = root.dataset.token;
  var log = document.getElementById("nmc-log");
  var startForm = document.getElementById("nmc-start");
  var inputForm = document.getElementById("nmc-input");
  var sessionId = null;

  function show(text, who) {
    var item = document.createElement("li");
    item.className = who;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function call(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Widget-Token": token },
      body: JSON.stringify(body || {}),
      credentials: "omit"
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function answered(data) {
    show(data.reply_text, "assistant");
    var status = data.session_state && data.session_state.status;
    if (status && status !== "active") {
      inputForm.hidden = true;
      show(root.dataset.ended, "assistant");
    }
  }

  startForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var form = new FormData(startForm);
    call("/v1/widget/session/start", {
      caller_phone: form.get("caller_phone"),
      name: form.get("name") || "",
      page_url: document.referrer || ""
    }).then(function (data) {
      sessionId = data.session_id;
      startForm.hidden = true;
      inputForm.hidden = false;
      answered(data);
      inputForm.elements.text.focus();
    }).catch(function () { show(root.dataset.error, "assistant"); });
  });

  inputForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = inputForm.elements.text.value.trim();
    if (!text || !sessionId) { return; }
    inputForm.elements.text.value = "";
    show(text, "customer");
    call("/v1/widget/session/" + sessionId + "/input", { text: text })
      .then(answered)
      .catch(function () { show(root.dataset.error, "assistant"); });
  });
})();
