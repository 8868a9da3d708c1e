"""The chat widget in a real browser: rendering, history after reload, escaping,
English and Chinese interface, phone width, keyboard only, ARIA roles.

Without a running Rasa the widget must say the bot is unreachable and keep what the
customer typed. The conversation behaviour (quick replies, typing indicator, rating
prompt, metadata) is exercised with a stand-in for the socket.io client library that
answers like Rasa's socket.io channel; the real channel is covered by test_stack.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from crm.signing import sign_customer
from tests.browser.conftest import (
    DEAD_RASA,
    WIDGET_SESSION,
    WIDGET_SESSION_ZH,
    XSS,
    Site,
    screenshot,
)

pytestmark = pytest.mark.browser

STORE = f"kefu:{DEAD_RASA}:"


def shadow(page: Any, selector: str) -> Any:
    """A locator inside the widget (Playwright's CSS pierces open shadow roots)."""
    return page.locator(f"#kefu-widget {selector}")


def with_session(page: Any, session_id: str) -> None:
    page.add_init_script(
        f"localStorage.setItem({json.dumps(STORE + 'session_id')}, "
        f"{json.dumps(session_id)});"
    )


def test_english_interface_and_unreachable_bot_keeps_the_text(
    new_page: Any, site: Site
) -> None:
    page = new_page(locale="en-US")
    page.goto(f"{site.url}/chat")
    assert shadow(page, "#kefu-title").inner_text() == "Customer service"
    assert shadow(page, "#kefu-send").inner_text() == "Send"
    banner = shadow(page, "#kefu-banner")
    banner.wait_for(state="visible")
    assert "can't reach the assistant" in banner.inner_text()
    assert banner.get_attribute("role") == "alert"
    box = shadow(page, "#kefu-input")
    box.fill("where is my parcel?")
    box.press("Enter")
    assert box.input_value() == "where is my parcel?"
    shadow(page, "#kefu-retry").click()
    assert box.input_value() == "where is my parcel?"
    assert shadow(page, ".msg.user").count() == 0  # nothing was sent
    screenshot(page, "widget-desktop-en-offline")


def test_chinese_interface_from_the_browser_language(new_page: Any, site: Site) -> None:
    page = new_page(locale="zh-CN")
    page.goto(f"{site.url}/chat")
    assert shadow(page, "#kefu-title").inner_text() == "在线客服"
    assert shadow(page, "#kefu-send").inner_text() == "发送"
    assert shadow(page, "#kefu-input").get_attribute("placeholder") == "请输入您的问题…"
    assert shadow(page, "#kefu-panel").get_attribute("lang") == "zh-CN"
    shadow(page, "#kefu-banner").wait_for(state="visible")
    assert "暂时无法连接" in shadow(page, "#kefu-banner").inner_text()
    screenshot(page, "widget-desktop-zh-offline")


def test_history_survives_a_reload_and_is_escaped(new_page: Any, site: Site) -> None:
    page = new_page(locale="en-US")
    with_session(page, WIDGET_SESSION)
    page.goto(f"{site.url}/chat")
    messages = shadow(page, "#kefu-log .msg")
    messages.nth(3).wait_for()
    texts = [messages.nth(i).locator(".text").inner_text() for i in range(4)]
    assert texts == [
        "where is my order",
        "Could you tell me your order number?",
        XSS,
        "Hello, this is Anna from support.",
    ]
    assert shadow(page, "#kefu-log img").count() == 0
    assert "agent" in (messages.nth(3).get_attribute("class") or "")
    assert messages.nth(0).locator("time").inner_text()
    page.reload()
    shadow(page, "#kefu-log .msg").nth(3).wait_for()
    assert shadow(page, "#kefu-log .msg").count() == 4
    page.wait_for_timeout(300)
    assert page.dialogs == []
    screenshot(page, "widget-desktop-history")


def test_interface_follows_the_language_the_customer_writes(
    new_page: Any, site: Site
) -> None:
    page = new_page(locale="en-US")
    with_session(page, WIDGET_SESSION_ZH)
    page.goto(f"{site.url}/chat")
    shadow(page, "#kefu-log .msg").nth(1).wait_for()
    page.wait_for_function(
        "document.querySelector('#kefu-widget').shadowRoot"
        ".querySelector('#kefu-title').textContent === '在线客服'"
    )


def test_phone_width(new_page: Any, site: Site) -> None:
    page = new_page(locale="zh-CN", width=375, height=667, mobile=True)
    with_session(page, WIDGET_SESSION_ZH)
    page.goto(f"{site.url}/chat")
    panel = shadow(page, "#kefu-panel")
    panel.wait_for(state="visible")
    box = panel.bounding_box()
    assert box["width"] == pytest.approx(375, abs=1)
    assert box["height"] == pytest.approx(667, abs=1)
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1
    screenshot(page, "widget-phone-zh")


def test_keyboard_only_and_roles(new_page: Any, site: Site) -> None:
    page = new_page(locale="en-US")
    page.goto(f"{site.url}/chat")

    def focused() -> str:
        return page.evaluate(
            "document.querySelector('#kefu-widget').shadowRoot.activeElement?.id || ''"
        )

    shadow(page, "#kefu-panel").wait_for(state="visible")
    assert focused() == "kefu-input"
    assert shadow(page, "#kefu-panel").get_attribute("role") == "dialog"
    assert shadow(page, "#kefu-log").get_attribute("role") == "log"
    assert shadow(page, "#kefu-typing").get_attribute("role") == "status"
    page.keyboard.press("Escape")
    assert shadow(page, "#kefu-panel").is_hidden()
    assert focused() == "kefu-launcher"
    assert shadow(page, "#kefu-launcher").get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    assert shadow(page, "#kefu-panel").is_visible()
    assert focused() == "kefu-input"
    page.keyboard.press("Tab")
    assert focused() == "kefu-send"


# --- conversation behaviour, with a stand-in socket.io client ----------------------

FAKE_SOCKET_IO = """
window.__sent = [];
window.io = function (url, options) {
  var handlers = {};
  var socket = {
    connected: false,
    url: url,
    on: function (name, handler) { handlers[name] = handler; },
    connect: function () {},
    emit: function (name, data) {
      window.__sent.push([name, data]);
      if (name === "session_request") {
        setTimeout(function () { handlers.session_confirm(data.session_id); }, 10);
      }
      if (name === "user_uttered") {
        setTimeout(function () { answer(data.message); }, 400);
      }
    }
  };
  function answer(text) {
    var say = handlers.bot_uttered;
    if (text === "choices please") {
      say({text: "Did that help?", quick_replies: [
        {content_type: "text", title: "Yes", payload: "/affirm"},
        {content_type: "text", title: "No", payload: "/deny"}]});
    } else if (text === "/affirm") {
      say({text: "Great! <b>Glad</b> to help."});
      say({rating_prompt: true});
    } else if (/^\\/give_feedback/.test(text)) {
      say({text: "谢谢您的评分！"});
    } else {
      say({text: "echo: " + text});
    }
  }
  window.__socket = socket;
  setTimeout(function () { socket.connected = true; handlers.connect(); }, 30);
  return socket;
};
"""


def shop_page(site: Site, signed: bool) -> str:
    attributes = f'data-rasa="{DEAD_RASA}"'
    if signed:
        token = sign_customer(42)
        attributes += (
            f' data-customer-id="42" data-timestamp="{token.timestamp}"'
            f' data-signature="{token.signature}"'
        )
    return (
        "<!doctype html><html><head><title>Shop</title></head><body>"
        "<h1>Another website</h1>"
        f'<script src="{site.url}/static/widget.js" {attributes}></script>'
        "</body></html>"
    )


SHOP_PORT = 18002


@pytest.fixture
def shop(site: Site) -> Iterator[str]:
    """Another website (another origin) that pastes the embed snippet."""
    body = shop_page(site, signed=True).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", SHOP_PORT), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{SHOP_PORT}/"
    server.shutdown()
    server.server_close()


def test_embedded_on_another_site_conversation_flow(
    new_page: Any, site: Site, shop: str
) -> None:
    page = new_page(locale="en-US")
    page.add_init_script(FAKE_SOCKET_IO)
    page.goto(shop)
    launcher = shadow(page, "#kefu-launcher")
    assert launcher.inner_text() == "Chat with us"
    launcher.click()
    box = shadow(page, "#kefu-input")
    box.fill("我想查一下订单")
    box.press("Enter")
    assert box.input_value() == ""
    shadow(page, "#kefu-typing").wait_for(state="visible")
    shadow(page, ".msg.bot").first.wait_for()
    assert shadow(page, "#kefu-typing").is_hidden()
    assert (
        shadow(page, "#kefu-title").inner_text() == "在线客服"
    )  # followed the customer

    box.fill("choices please")
    box.press("Enter")
    choices = shadow(page, ".choices button")
    choices.first.wait_for()
    assert [choices.nth(i).inner_text() for i in range(2)] == ["Yes", "No"]
    choices.first.focus()
    page.keyboard.press("Enter")
    stars = shadow(page, ".rating .star")
    stars.nth(4).wait_for()
    assert shadow(page, "#kefu-title").inner_text() == "Customer service"  # and back
    assert stars.nth(3).get_attribute("aria-label") == "4 stars of 5"
    assert shadow(page, ".msg.bot .text").nth(2).inner_text() == (
        "Great! <b>Glad</b> to help."
    )
    assert shadow(page, ".msg.bot b").count() == 0
    screenshot(page, "widget-desktop-rating")
    stars.nth(3).click()
    shadow(page, ".msg.bot").nth(3).wait_for()

    sent = page.evaluate("window.__sent")
    session_id = page.evaluate("window.kefuWidget.sessionId()")
    assert sent[0] == ["session_request", {"session_id": session_id}]
    uttered = [data for name, data in sent if name == "user_uttered"]
    assert [u["message"] for u in uttered] == [
        "我想查一下订单",
        "choices please",
        "/affirm",
        '/give_feedback{"rating": 4}',
    ]
    first = uttered[0]
    assert first["session_id"] == session_id
    assert first["metadata"]["customer_id"] == "42"
    assert (
        first["metadata"]["signature"]
        == sign_customer(42, timestamp=int(first["metadata"]["timestamp"])).signature
    )
    assert first["customData"] == first["metadata"]
    users = shadow(page, ".msg.user .text")
    assert users.nth(2).inner_text() == "Yes"
    assert users.nth(3).inner_text() == "Rating: 4/5"

    page.reload()  # the local copy keeps what the server's log does not have yet
    shadow(page, "#kefu-panel").wait_for(state="visible")  # it stays open
    shadow(page, ".msg").nth(7).wait_for()
    assert shadow(page, ".msg.user .text").nth(3).inner_text() == "Rating: 4/5"
    assert page.evaluate("window.kefuWidget.sessionId()") == session_id
