// NeverMissCall web chat: <script src="https://<host>/static/widget/embed.js" data-token="nmcw_…"></script>
// Adds a chat bubble to the page; clicking it opens the business's chat in an iframe.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.token) { return; }
  var origin = new URL(script.src).origin;
  var params = new URLSearchParams({ token: script.dataset.token });
  if (script.dataset.title) { params.set("title", script.dataset.title); }
  if (script.dataset.lang) { params.set("lang", script.dataset.lang); }
  var color = script.dataset.color || "#2563eb";

  var bubble = document.createElement("button");
  bubble.type = "button";
  bubble.setAttribute("aria-label", script.dataset.label || "Chat with us");
  bubble.textContent = "\uD83D\uDCAC";
  bubble.style.cssText = "position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;" +
    "border:0;background:" + color + ";color:#fff;font-size:26px;cursor:pointer;z-index:2147483000;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25)";

  var frame = null;
  bubble.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/widget/chat?" + params.toString();
      frame.title = script.dataset.label || "Chat with us";
      frame.style.cssText = "position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 40px);" +
        "height:520px;max-height:calc(100vh - 120px);border:0;border-radius:12px;z-index:2147483000;" +
        "box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff";
      document.body.appendChild(frame);
      return;
    }
    frame.hidden = !frame.hidden;
  });
  document.body.appendChild(bubble);
})();
