// Live view of a conversation an agent holds: polls for new messages and appends
// them. Text is always inserted with textContent, never as HTML.
(function () {
  "use strict";
  var list = document.getElementById("messages");
  if (!list || list.dataset.live !== "1") return;
  var id = list.dataset.conversation;
  var lastId = parseInt(list.dataset.lastId || "0", 10);
  var names = { user: "Customer", bot: "Bot", agent: "Agent" };

  function append(m) {
    if (document.getElementById("m" + m.id)) return;
    var item = document.createElement("li");
    item.id = "m" + m.id;
    item.className = "msg " + (names[m.sender] ? m.sender : "bot");
    var who = document.createElement("div");
    who.className = "who";
    who.textContent = (names[m.sender] || "Bot") + " " + m.created_at.replace("T", " ");
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = m.text;
    item.appendChild(who);
    item.appendChild(text);
    list.appendChild(item);
  }

  function poll() {
    fetch("/api/conversations/" + id + "/messages?after_id=" + lastId, {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) return;
      data.messages.forEach(function (m) { append(m); lastId = Math.max(lastId, m.id); });
      if (data.handoff === "taken") window.setTimeout(poll, 3000);
    }).catch(function () { window.setTimeout(poll, 10000); });
  }
  list.setAttribute("aria-live", "polite");
  window.setTimeout(poll, 3000);
})();
