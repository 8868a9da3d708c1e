"""The domain and the action server agree, and every response speaks both languages."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from tests.actions.conftest import DOMAIN

ACTIONS = Path(__file__).resolve().parents[2] / "actions"


def registered_actions() -> set[str]:
    executor = ActionExecutor()
    executor.register_package("actions")
    return set(executor.actions)


def test_every_domain_action_is_served() -> None:
    assert set(DOMAIN["actions"]) <= registered_actions()


def test_every_response_has_english_and_chinese() -> None:
    for name, variations in DOMAIN["responses"].items():
        conditions = [v.get("condition") for v in variations]
        assert None in conditions, f"{name} has no default (English) variation"
        assert [{"type": "slot", "name": "language", "value": "zh"}] in conditions, name
        assert all(
            re.search(r"[\u4e00-\u9fff]", v["text"])
            for v in variations
            if v.get("condition")
        ), f"{name}: the zh variation is not Chinese"


def test_both_variations_use_the_same_placeholders() -> None:
    for name, variations in DOMAIN["responses"].items():
        fields = {frozenset(re.findall(r"\{(\w+)\}", v["text"])) for v in variations}
        assert len(fields) == 1, name


def test_every_response_an_action_sends_exists() -> None:
    used: set[str] = set()
    for module in ACTIONS.glob("*.py"):
        text = module.read_text()
        used |= set(re.findall(r'response\s*=\s*"(utter_[a-z_]+)"', text))
        for prefix in re.findall(r'response=f"(utter_[a-z_]+)\{', text):
            used |= {k for k in DOMAIN["responses"] if k.startswith(prefix)}
    missing = used - set(DOMAIN["responses"])
    assert not missing
    assert {
        "utter_crm_unavailable",
        "utter_handoff",
        "utter_no_refunds",
        "utter_order_status_on_the_way",
    } <= used


def test_every_form_slot_has_a_question() -> None:
    for form, spec in DOMAIN["forms"].items():
        for slot in spec["required_slots"]:
            asks = {f"utter_ask_{slot}", f"utter_ask_{form}_{slot}"}
            actions = {f"action_ask_{slot}", f"action_ask_{form}_{slot}"}
            if slot == "phone":
                continue  # only ever given, never asked (see verification.py)
            assert asks & set(DOMAIN["responses"]) or actions & set(DOMAIN["actions"])


def rules() -> list[tuple[str, dict]]:
    found = []
    for path in sorted((ACTIONS.parent / "bot" / "data").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text()).get("rules", []):
            found.append((path.name, rule))
    return found


def slot_conditions(rule: dict) -> dict:
    return {
        key: value
        for condition in rule.get("condition", [])
        for item in condition.get("slot_was_set", [])
        for key, value in item.items()
    }


def test_every_customer_rule_has_a_holding_twin() -> None:
    """While staff have the conversation no rule may let the bot answer."""
    twins = {
        (
            rule["steps"][0]["intent"],
            tuple(rule["steps"][0].get("entities", [])),
            tuple(sorted(slot_conditions(rule).items())),
        )
        for name, rule in rules()
        if name == "handoff_hold.yml"
    }
    for name, rule in rules():
        first = rule["steps"][0]
        if name == "handoff_hold.yml" or "intent" not in first:
            continue
        if first["intent"].startswith("EXTERNAL_") or any(
            "active_loop" in c for c in rule.get("condition", [])
        ):
            continue
        wanted = slot_conditions(rule) | {"handoff_active": True}
        key = (
            first["intent"],
            tuple(first.get("entities", [])),
            tuple(sorted(wanted.items())),
        )
        assert key in twins, f"{name}: rule {rule['rule']!r} has no hold twin"
    assert all(
        rule["steps"][-1] == {"action": "action_handoff_hold"}
        for name, rule in rules()
        if name == "handoff_hold.yml"
    )
