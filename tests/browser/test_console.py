"""The staff console in a real browser: log in, inbox, correct a label, export,
refusals, escaping, phone width."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.browser.conftest import XSS, Site, log_in, screenshot

pytestmark = pytest.mark.browser


def test_login_inbox_correct_and_export(new_page: Any, site: Site) -> None:
    page = new_page()
    page.goto(f"{site.url}/inbox")
    assert "/login" in page.url  # anonymous: sent to log in
    log_in(page, site, "analyst")
    rows = page.locator("table.inbox tbody tr")
    assert rows.count() >= 5
    assert "attention" in rows.first.get_attribute("class")
    screenshot(page, "console-inbox-desktop")

    page.get_by_label("Negative").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**negative=1**")
    assert page.locator("table.inbox tbody tr").count() == 1
    page.get_by_role("link", name=f"#{site.ids['angry']}").click()
    page.wait_for_url(f"**/conversations/{site.ids['angry']}")

    message = page.locator("li.msg.user").first
    assert "complain" in message.inner_text() and "0.45" in message.inner_text()
    message.locator("summary").click()
    message.get_by_label("Intent").fill("cancel_subscription")
    message.get_by_label("Sentiment").select_option("negative")
    message.get_by_role("button", name="Save labels").click()
    status = page.get_by_role("status").first
    assert "intent complain → cancel_subscription" in status.inner_text()
    assert "<s>" not in page.locator("li.msg.user").first.inner_text()
    assert page.locator("li.msg.user s").first.inner_text() == "complain"
    screenshot(page, "console-conversation-desktop")

    page.get_by_role("link", name="Corrections").click()
    page.get_by_role("button", name="Export for the next training").click()
    assert "Exported 1 en" in page.get_by_role("status").first.inner_text()
    exported = YAML(typ="safe").load((site.export_dir / "en.yml").read_text())
    assert {
        "intent": "cancel_subscription",
        "metadata": {"sentiment": "negative"},
        "examples": "- this is the worst service ever\n",
    } in exported["nlu"]
    screenshot(page, "console-corrections-desktop")


def test_customer_text_cannot_run_script_in_the_console(
    new_page: Any, site: Site
) -> None:
    page = new_page()
    log_in(page, site, "admin")
    page.goto(f"{site.url}/conversations/{site.ids['hostile']}")
    assert page.locator("li.msg.user p.text").first.inner_text() == XSS
    assert page.locator("li.msg.user img").count() == 0
    page.goto(f"{site.url}/inbox")
    assert XSS in page.locator("table.inbox").inner_text()
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_refused_where_they_do_not_belong(new_page: Any, site: Site) -> None:
    anonymous = new_page()
    anonymous.goto(f"{site.url}/admin/staff")
    assert anonymous.url.startswith(f"{site.url}/login?next=")
    agent = new_page()
    log_in(agent, site, "agent")
    response = agent.goto(f"{site.url}/admin/staff")
    assert response.status == 403
    assert "Not allowed" in agent.locator("h1").inner_text()
    assert agent.get_by_role("link", name="Staff").count() == 0


def test_agent_sees_the_handoff_queue(new_page: Any, site: Site) -> None:
    page = new_page()
    log_in(page, site, "agent")
    page.get_by_role("link", name="Handoffs").click()
    assert page.get_by_role("button", name="Take").count() >= 1


def test_console_at_phone_width(new_page: Any, site: Site) -> None:
    page = new_page(width=390, height=844, mobile=True)
    log_in(page, site, "admin")
    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 1
    screenshot(page, "console-inbox-phone")
    page.goto(f"{site.url}/conversations/{site.ids['chinese']}")
    assert "A1000001" in page.locator("aside.crm").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1
    screenshot(page, "console-conversation-phone")


def test_dashboard_plots_load(new_page: Any, site: Site) -> None:
    page = new_page()
    log_in(page, site, "analyst")
    page.goto(f"{site.url}/dashboard?date_from=2026-09-01&date_to=2026-11-30")
    images = page.locator("img.plot")
    assert images.count() == 5
    page.wait_for_load_state("networkidle")
    widths = images.evaluate_all("(els) => els.map((e) => e.naturalWidth)")
    assert all(width > 0 for width in widths)
    screenshot(page, "console-dashboard-desktop")


def test_admin_reaches_the_erase_confirmation_at_phone_width(
    new_page: Any, site: Site
) -> None:
    page = new_page(width=390, height=844, mobile=True)
    log_in(page, site, "admin")
    page.goto(f"{site.url}/conversations/{site.ids['chinese']}")
    page.get_by_role("link", name="Erase this customer…").click()
    page.wait_for_url("**/erase-customer")
    assert "li.mei@example.com" in page.locator("main").inner_text()
    confirm = page.get_by_label("Type the customer number")
    assert confirm.get_attribute("required") is not None
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1
    screenshot(page, "console-erase-phone")
    page.get_by_role("link", name="Cancel and go back").click()  # nothing erased
    page.wait_for_url(f"**/conversations/{site.ids['chinese']}")
