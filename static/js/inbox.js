/* The thread page: confirmation dialogs for take over / hand back / resolve / reopen, quick replies
 * into the composer, and the newest message kept in view. Without JavaScript the same forms post
 * to the server, which asks on a page of its own (views._confirmed_action). */
(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || !dialog || typeof dialog.showModal !== "function") { return; }
    var confirm = form.querySelector("input[name='confirm']");
    if (!confirm || confirm.value === "yes") { return; }
    event.preventDefault();
    document.getElementById("confirm-dialog-text").textContent = form.dataset.confirm;
    document.getElementById("confirm-dialog-ok").textContent = form.dataset.confirmButton;
    var action = form.getAttribute("action");
    dialog.onclose = function () {
      if (dialog.returnValue !== "confirm") { return; }
      // A live refresh may have replaced the form while the dialog was open: submit the current one.
      var current = form.isConnected ? form : document.querySelector('form[action="' + action + '"]');
      if (!current) { return; }
      current.querySelector("input[name='confirm']").value = "yes";
      current.submit();
    };
    dialog.returnValue = "";
    dialog.showModal();
  });

  document.addEventListener("click", function (event) {
    var chip = event.target.closest && event.target.closest("[data-quick-reply]");
    if (!chip) { return; }
    var box = document.getElementById("reply-body");
    if (!box) { return; }
    var text = chip.dataset.quickReply;
    box.value = box.value ? box.value.replace(/\s*$/, " ") + text : text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });

  function toBottom() {
    var thread = document.getElementById("thread");
    if (thread && thread.lastElementChild) { thread.lastElementChild.scrollIntoView({ block: "end" }); }
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "thread") { toBottom(); }
  });
  // On a phone the thread and the composer get the screen; the customer panel opens on a tap.
  var side = document.getElementById("side-details");
  if (side && window.matchMedia && window.matchMedia("(max-width: 48rem)").matches) { side.open = false; }
  toBottom();
})();
