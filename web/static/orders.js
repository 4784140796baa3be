// SPDX-License-Identifier: MIT
// The order page's live block (#live): on each event of the order's stream (server-sent
// events, data-events), the block is fetched again (data-fragment, the page's own "live"
// block) and put in place; what the user typed in its text fields is kept. Without
// JavaScript, or when the stream cannot be opened, the page is the same and reloading it
// shows the news.
(function () {
  "use strict";

  function keepTyped(block) {
    var typed = {};
    block.querySelectorAll("textarea, input[type=text]").forEach(function (field) {
      if (field.name && field.value) typed[field.name] = field.value;
    });
    return typed;
  }

  function refresh(block, news) {
    fetch(block.dataset.fragment, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var typed = keepTyped(block);
        block.innerHTML = html;
        Object.keys(typed).forEach(function (name) {
          var field = block.querySelector("[name='" + name + "']");
          if (field) field.value = typed[name];
        });
        var standing = block.querySelector(".status");
        if (news && standing) news.textContent = standing.textContent.trim();
        block.dispatchEvent(new CustomEvent("wl:updated", { bubbles: true }));
      });
  }

  function follow() {
    var block = document.getElementById("live");
    if (!block || !block.dataset.events || !window.EventSource) return;
    var news = document.getElementById("live-news");
    var source = new EventSource(block.dataset.events);
    source.addEventListener("status", function () { refresh(block, news); });
    block.dataset.live = "on";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", follow);
  } else {
    follow();
  }
})();
