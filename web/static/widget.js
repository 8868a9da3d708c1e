/*
 * kefu chat widget: one script tag embeds it on any page.
 *
 *   <script src="https://HOST:8000/static/widget.js" data-rasa="https://HOST:5005"
 *           data-customer-id="42" data-timestamp="1764500000"
 *           data-signature="hex hmac"></script>
 *
 * It talks to Rasa's socket.io channel (session persistence: the session id lives
 * in localStorage), shows the transcript again after a reload (from the web app's
 * /api/widget/history, or the local copy if that is longer), and sends the signed
 * customer id with every message as metadata. Every text, the customer's and the
 * bot's, is inserted with textContent: nothing from a message is ever parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__kefuWidget) return;
  window.__kefuWidget = true;

  var cfg = script.dataset;
  var BASE = new URL(script.src, window.location.href).origin;
  var RASA = cfg.rasa || "http://127.0.0.1:5005";
  var STORE = "kefu:" + RASA + ":";
  var MAX_TEXT = 2000;
  var MAX_LOCAL = 100;
  var ANSWER_TIMEOUT = 20000;

  var TEXT = {
    en: {
      open: "Chat with us", title: "Customer service", close: "Close chat",
      placeholder: "Type your message…", send: "Send", label: "Your message",
      typing: "The assistant is typing…", log: "Conversation",
      offline: "We can't reach the assistant right now. Your message is kept; we keep trying.",
      retry: "Retry now", back: "Connected again. You can send your message.",
      slow: "The assistant is taking longer than usual to answer…",
      rate: "How did we do? Rate this conversation:", star: function (n) { return n + (n === 1 ? " star" : " stars") + " of 5"; },
      rated: function (n) { return "Rating: " + n + "/5"; }, you: "You", bot: "Assistant",
      tooLong: "Your message is too long (at most 2000 characters).",
      quick: "Suggested replies", connecting: "Connecting…"
    },
    zh: {
      open: "在线客服", title: "在线客服", close: "关闭对话",
      placeholder: "请输入您的问题…", send: "发送", label: "您的消息",
      typing: "客服助手正在输入…", log: "对话记录",
      offline: "暂时无法连接客服助手。您输入的内容已保留，我们会继续尝试连接。",
      retry: "立即重试", back: "已重新连接，您可以发送消息了。",
      slow: "客服助手的回复比平时慢一些，请稍候…",
      rate: "请为本次服务打分：", star: function (n) { return n + " 星（满分 5 星）"; },
      rated: function (n) { return "评分：" + n + "/5"; }, you: "您", bot: "客服助手",
      tooLong: "消息太长了（最多 2000 个字符）。",
      quick: "推荐回复", connecting: "正在连接…"
    }
  };
  var CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
  var LATIN_WORD = /[A-Za-z]{3,}/;

  // --- state ---------------------------------------------------------------------
  var lang = pickLanguage();
  var sessionId = loadSessionId();
  var socket = null;
  var transcript = [];
  var answerTimer = null;
  var wasOffline = false;

  // --- DOM -----------------------------------------------------------------------
  var host = document.createElement("div");
  host.id = "kefu-widget";
  var root = host.attachShadow({ mode: "open" });
  var css = el("link", { rel: "stylesheet", href: BASE + "/static/widget.css" });
  root.appendChild(css);

  var launcher = el("button", { type: "button", "class": "launcher", "aria-expanded": "false",
                                "aria-controls": "kefu-panel", id: "kefu-launcher" });
  var panel = el("section", { id: "kefu-panel", "class": "panel", role: "dialog",
                              "aria-modal": "false", "aria-labelledby": "kefu-title", hidden: "" });
  var header = el("header", { "class": "head" });
  var title = el("h2", { id: "kefu-title" });
  var closeButton = el("button", { type: "button", "class": "close", id: "kefu-close" });
  closeButton.appendChild(document.createTextNode("×"));
  header.appendChild(title);
  header.appendChild(closeButton);

  var banner = el("div", { id: "kefu-banner", "class": "banner", role: "alert", hidden: "" });
  var bannerText = el("span", {});
  var retryButton = el("button", { type: "button", id: "kefu-retry", "class": "retry" });
  banner.appendChild(bannerText);
  banner.appendChild(retryButton);

  var log = el("ol", { id: "kefu-log", "class": "log", role: "log", "aria-live": "polite",
                       "aria-relevant": "additions", tabindex: "0" });
  var typing = el("div", { id: "kefu-typing", "class": "typing", role: "status", hidden: "" });
  var typingDots = el("span", { "class": "dots", "aria-hidden": "true" });
  typingDots.appendChild(document.createTextNode("• • •"));
  var typingText = el("span", { "class": "sr-only" });
  typing.appendChild(typingDots);
  typing.appendChild(typingText);

  var form = el("form", { "class": "compose", id: "kefu-form" });
  var inputLabel = el("label", { "for": "kefu-input", "class": "sr-only", id: "kefu-input-label" });
  var input = el("textarea", { id: "kefu-input", rows: "1", maxlength: String(MAX_TEXT),
                               autocomplete: "off", enterkeyhint: "send" });
  var sendButton = el("button", { type: "submit", id: "kefu-send", "class": "send" });
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(banner);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  root.appendChild(launcher);
  root.appendChild(panel);

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  function t(key) { return TEXT[lang][key]; }

  function applyLanguage() {
    panel.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
    launcher.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
    launcher.textContent = t("open");
    title.textContent = t("title");
    closeButton.setAttribute("aria-label", t("close"));
    input.setAttribute("placeholder", t("placeholder"));
    inputLabel.textContent = t("label");
    sendButton.textContent = t("send");
    typingText.textContent = t("typing");
    log.setAttribute("aria-label", t("log"));
    retryButton.textContent = t("retry");
    if (!banner.hidden && banner.dataset.kind) bannerText.textContent = t(banner.dataset.kind);
  }

  function pickLanguage() {
    if (cfg.lang === "zh" || cfg.lang === "en") return cfg.lang;
    var stored = safeGet("lang");
    if (stored === "zh" || stored === "en") return stored;
    var nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return /^zh/i.test(nav) ? "zh" : "en";
  }

  function followLanguage(text) {
    var next = CJK.test(text) ? "zh" : (LATIN_WORD.test(text) ? "en" : lang);
    if (next !== lang) {
      lang = next;
      safeSet("lang", lang);
      applyLanguage();
    }
  }

  // --- storage -------------------------------------------------------------------
  function safeGet(key) {
    try { return window.localStorage.getItem(STORE + key); } catch (e) { return null; }
  }
  function safeSet(key, value) {
    try { window.localStorage.setItem(STORE + key, value); } catch (e) { /* private mode */ }
  }

  function loadSessionId() {
    var id = safeGet("session_id");
    if (id && /^[A-Za-z0-9_-]{8,128}$/.test(id)) return id;
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    safeSet("session_id", id);
    return id;
  }

  function remember(entry) {
    transcript.push(entry);
    if (transcript.length > MAX_LOCAL) transcript = transcript.slice(-MAX_LOCAL);
    safeSet("transcript:" + sessionId, JSON.stringify(transcript));
  }

  function localTranscript() {
    try {
      var saved = JSON.parse(safeGet("transcript:" + sessionId) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (e) { return []; }
  }

  // --- rendering -----------------------------------------------------------------
  function clock(iso) {
    var when = iso ? new Date(iso) : new Date();
    if (isNaN(when.getTime())) when = new Date();
    return when;
  }

  function addMessage(sender, text, iso, keep) {
    var when = clock(iso);
    var item = el("li", { "class": "msg " + (sender === "user" ? "user" : "bot") + (sender === "agent" ? " agent" : "") });
    var who = el("span", { "class": "sr-only" });
    who.textContent = (sender === "user" ? t("you") : t("bot")) + ": ";
    var body = el("p", { "class": "text" });
    body.textContent = sender === "user" ? readable(text) : text;
    var stamp = el("time", { datetime: when.toISOString() });
    var locale = lang === "zh" ? "zh-CN" : "en";
    var today = when.toDateString() === new Date().toDateString();
    stamp.textContent = today
      ? when.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      : when.toLocaleString(locale, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    item.appendChild(who);
    item.appendChild(body);
    item.appendChild(stamp);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (keep !== false) remember({ sender: sender, text: text, at: when.toISOString() });
    return item;
  }

  // A button's payload ("/affirm", '/give_feedback{"rating": 4}') as the customer saw it.
  function readable(text) {
    var rating = /^\/give_feedback\{"rating":\s*([1-5])\}$/.exec(text);
    if (rating) return t("rated")(Number(rating[1]));
    var intent = /^\/([a-z_]+)(\{.*\})?$/.exec(text);
    return intent ? intent[1].replace(/_/g, " ") : text;
  }

  function clearChoices() {
    var old = log.querySelectorAll(".choices");
    Array.prototype.forEach.call(old, function (node) { node.remove(); });
  }

  function addQuickReplies(replies) {
    var group = el("li", { "class": "choices", role: "group", "aria-label": t("quick") });
    replies.forEach(function (reply) {
      if (!reply || typeof reply.title !== "string") return;
      var button = el("button", { type: "button", "class": "choice" });
      button.textContent = reply.title;
      button.addEventListener("click", function () {
        send(typeof reply.payload === "string" ? reply.payload : reply.title, reply.title);
      });
      group.appendChild(button);
    });
    log.appendChild(group);
    log.scrollTop = log.scrollHeight;
  }

  function addRatingPrompt() {
    var group = el("li", { "class": "choices rating", role: "group", "aria-label": t("rate") });
    var prompt = el("p", { "class": "text" });
    prompt.textContent = t("rate");
    group.appendChild(prompt);
    for (var n = 1; n <= 5; n += 1) {
      (function (stars) {
        var button = el("button", { type: "button", "class": "star", "aria-label": t("star")(stars),
                                    "data-rating": String(stars) });
        button.textContent = "★";
        button.addEventListener("mouseenter", function () { highlight(group, stars); });
        button.addEventListener("focus", function () { highlight(group, stars); });
        button.addEventListener("click", function () {
          send('/give_feedback{"rating": ' + stars + "}", t("rated")(stars));
        });
        group.appendChild(button);
      })(n);
    }
    log.appendChild(group);
    log.scrollTop = log.scrollHeight;
  }

  function highlight(group, stars) {
    Array.prototype.forEach.call(group.querySelectorAll(".star"), function (button) {
      button.classList.toggle("on", Number(button.dataset.rating) <= stars);
    });
  }

  function showBanner(kind, withRetry) {
    banner.dataset.kind = kind;
    bannerText.textContent = t(kind);
    retryButton.hidden = !withRetry;
    banner.hidden = false;
  }

  function hideBanner() {
    banner.hidden = true;
    banner.dataset.kind = "";
  }

  function setTyping(on) {
    typing.hidden = !on;
    window.clearTimeout(answerTimer);
    if (on) {
      answerTimer = window.setTimeout(function () {
        typing.hidden = true;
        showBanner("slow", false);
      }, ANSWER_TIMEOUT);
    }
  }

  // --- bot messages --------------------------------------------------------------
  function isRatingPrompt(message) {
    var custom = message.custom || message.data || message;
    return Boolean(custom && (custom.rating_prompt || (custom.data && custom.data.rating_prompt)));
  }

  function receive(message) {
    if (!message || typeof message !== "object") return;
    setTyping(false);
    if (banner.dataset.kind === "slow" || banner.dataset.kind === "back") hideBanner();
    clearChoices();
    if (typeof message.text === "string" && message.text) {
      addMessage(message.sender === "agent" ? "agent" : "bot", message.text);
    }
    var attachment = message.attachment;
    if (attachment && attachment.type === "image" && attachment.payload) {
      var src = String(attachment.payload.src || "");
      if (/^https?:\/\//i.test(src)) {
        var item = el("li", { "class": "msg bot" });
        item.appendChild(el("img", { src: src, alt: "", "class": "picture" }));
        log.appendChild(item);
      }
    }
    if (Array.isArray(message.quick_replies) && message.quick_replies.length) {
      addQuickReplies(message.quick_replies);
    } else if (Array.isArray(message.buttons) && message.buttons.length) {
      addQuickReplies(message.buttons);
    }
    if (isRatingPrompt(message)) addRatingPrompt();
  }

  // --- sending -------------------------------------------------------------------
  function metadata() {
    var data = { language: lang, page: window.location.pathname };
    if (cfg.customerId && cfg.signature && cfg.timestamp) {
      data.customer_id = cfg.customerId;
      data.signature = cfg.signature;
      data.timestamp = cfg.timestamp;
    }
    return data;
  }

  function send(payload, shown) {
    var text = String(payload || "").trim();
    if (!text) return false;
    if (text.length > MAX_TEXT) {
      showBanner("tooLong", false);
      return false;
    }
    if (!socket || !socket.connected) {
      wasOffline = true;
      showBanner("offline", true);
      if (socket) socket.connect();
      return false;
    }
    var visible = shown || text;
    if (!shown) followLanguage(text);
    clearChoices();
    hideBanner();
    addMessage("user", visible);
    var meta = metadata();
    socket.emit("user_uttered", { message: text, session_id: sessionId, metadata: meta, customData: meta });
    setTyping(true);
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (send(input.value)) {
      input.value = "";
      autoGrow();
    }
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  input.addEventListener("input", autoGrow);

  retryButton.addEventListener("click", function () {
    if (socket) socket.connect(); else connect();
    bannerText.textContent = t("connecting");
  });

  // --- open / close --------------------------------------------------------------
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    log.scrollTop = log.scrollHeight;
    input.focus();
    safeSet("open", "1");
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
    safeSet("open", "0");
  }

  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });

  // --- history and connection ----------------------------------------------------
  function showHistory() {
    var local = localTranscript();
    var url = BASE + "/api/widget/history?session_id=" + encodeURIComponent(sessionId);
    return fetch(url, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
      .catch(function () { return { messages: [] }; })
      .then(function (data) {
        var server = Array.isArray(data.messages) ? data.messages : [];
        var chosen = server.length >= local.length ? server : local;
        chosen.forEach(function (m) {
          if (m && typeof m.text === "string") addMessage(m.sender, m.text, m.at, false);
        });
        transcript = chosen.slice(-MAX_LOCAL);
        var lastUser = chosen.filter(function (m) { return m && m.sender === "user"; }).pop();
        if (lastUser && !cfg.lang) followLanguage(lastUser.text);
      });
  }

  function loadSocketIo() {
    if (window.io) return Promise.resolve(window.io);
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = BASE + "/static/vendor/socket.io.min.js";
      tag.async = true;
      tag.onload = function () { resolve(window.io); };
      tag.onerror = function () { reject(new Error("socket.io client missing")); };
      document.head.appendChild(tag);
    });
  }

  function connect() {
    loadSocketIo().then(function (io) {
      socket = io(RASA, {
        path: cfg.socketPath || "/socket.io",
        transports: (cfg.transports || "websocket").split(","),
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 10000,
        timeout: 8000
      });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: sessionId });
        if (wasOffline || banner.dataset.kind === "offline") {
          showBanner("back", false);
          wasOffline = false;
        }
      });
      socket.on("session_confirm", function (confirmed) {
        var id = confirmed && typeof confirmed === "object" ? confirmed.session_id : confirmed;
        if (id && id !== sessionId && /^[A-Za-z0-9_-]{8,128}$/.test(id)) {
          sessionId = id;
          safeSet("session_id", id);
        }
      });
      socket.on("connect_error", function () {
        wasOffline = true;
        setTyping(false);
        showBanner("offline", true);
      });
      socket.on("disconnect", function (reason) {
        wasOffline = true;
        setTyping(false);
        showBanner("offline", true);
        if (reason === "io server disconnect") socket.connect();
      });
      socket.on("bot_uttered", receive);
    }).catch(function () {
      showBanner("offline", true);
    });
  }

  function start() {
    document.body.appendChild(host);
    applyLanguage();
    showHistory().then(function () {
      if (cfg.open === "1" || safeGet("open") === "1") open();
    });
    connect();
    window.kefuWidget = { open: open, close: close, sessionId: function () { return sessionId; } };
  }

  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
