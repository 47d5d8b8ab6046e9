// The appointments week calendar: drag an appointment onto another hour to reschedule it. The
// server decides (a taken slot is refused and nothing changes) and answers with the new calendar.
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-move-url]");
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.dataset.moveUrl);
    event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", function (event) {
    var slot = event.target.closest && event.target.closest("[data-slot]");
    if (!slot) return;
    event.preventDefault();
    slot.classList.add("drop-over");
  });
  document.addEventListener("dragleave", function (event) {
    var slot = event.target.closest && event.target.closest("[data-slot]");
    if (slot) slot.classList.remove("drop-over");
  });
  document.addEventListener("drop", function (event) {
    var slot = event.target.closest && event.target.closest("[data-slot]");
    if (!slot) return;
    event.preventDefault();
    slot.classList.remove("drop-over");
    var url = event.dataTransfer.getData("text/plain");
    if (!url) return;
    htmx.ajax("POST", url, {
      source: slot,
      target: "#week",
      swap: "outerHTML",
      values: { start: slot.dataset.slot },
      headers: { "X-CSRFToken": csrf() },
    });
  });
})();
