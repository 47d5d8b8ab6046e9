/* The onboarding wizard's small helpers. Every word shown comes from the page (templates translate
 * it); this file only moves values around.
 *  - hours: "Copy Monday to Tuesday–Friday";
 *  - job estimates: add and remove rows (a row's number follows its position);
 *  - test call: the call, the text and the reply appear as live.js re-dispatches the dashboard
 *    websocket's events ("nmc:<type>" on <body>). */
(function () {
  "use strict";

  function copyWeekdays(button) {
    var grid = button.closest("[data-hours]");
    var form = button.form;
    ["tuesday", "wednesday", "thursday", "friday"].forEach(function (day) {
      form.querySelectorAll("input[name^='monday_']").forEach(function (source) {
        var target = form.elements[source.name.replace(/^monday_/, day + "_")];
        if (!target) { return; }
        if (source.type === "checkbox") { target.checked = source.checked; } else { target.value = source.value; }
      });
    });
    grid.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function renumber(container) {
    container.querySelectorAll("[data-estimate-row] legend").forEach(function (legend, position) {
      legend.textContent = legend.textContent.replace(/\d+/, String(position + 1));
    });
  }

  function addEstimate(button) {
    var form = button.form;
    var template = document.getElementById("estimate-row-template");
    var count = form.querySelector("[data-estimate-count]");
    var container = form.querySelector("[data-estimate-rows]");
    var index = parseInt(count.value, 10) || 0;
    var html = template.innerHTML.replace(/__index__/g, String(index)).replace(/__number__/g, String(container.children.length + 1));
    container.insertAdjacentHTML("beforeend", html);
    count.value = String(index + 1);
    renumber(container);
    var first = container.lastElementChild.querySelector("input:not([type=hidden])");
    if (first) { first.focus(); }
  }

  function removeEstimate(button) {
    var row = button.closest("[data-estimate-row]");
    var container = row.parentNode;
    row.remove();
    renumber(container);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-copy-weekdays]")) { copyWeekdays(target.closest("[data-copy-weekdays]")); }
    else if (target.closest("[data-add-estimate]")) { addEstimate(target.closest("[data-add-estimate]")); }
    else if (target.closest("[data-remove-estimate]")) { removeEstimate(target.closest("[data-remove-estimate]")); }
  });

  var panel = document.getElementById("test-call");
  if (!panel) { return; }
  var number = panel.dataset.businessNumber;
  var caller = null;

  function mark(id, text) {
    var item = document.getElementById(id);
    if (!item) { return; }
    item.hidden = false;
    item.dataset.state = "done";
    item.querySelector("span").textContent = text;
  }

  function on(type, handler) {
    document.body.addEventListener("nmc:" + type, function (event) { handler(event.detail.payload || {}); });
  }

  function callArrived(p) {
    if (number && p.to_number && p.to_number !== number) { return; }
    caller = p.from_number || p.caller || caller;
    mark("test-call-call", panel.dataset.callLabel + " " + (caller || ""));
    var check = document.getElementById("checklist-test-call");
    if (check) { check.dataset.done = "true"; check.textContent = check.dataset.seenLabel; }
  }
  on("incoming_call", callArrived);
  on("call_missed", callArrived);
  on("message_sent", function (p) {
    if (caller && p.to_number !== caller) { return; }
    var reply = document.getElementById("test-call-reply");
    if (reply && reply.dataset.state === "done") { mark("test-call-answer", panel.dataset.answerLabel + " " + p.body); }
    else { mark("test-call-text", panel.dataset.textLabel + " " + p.body); }
  });
  on("new_message", function (p) {
    if (p.direction !== "inbound" || (caller && p.from_number !== caller)) { return; }
    mark("test-call-reply", panel.dataset.replyLabel + " " + p.body);
  });
})();
