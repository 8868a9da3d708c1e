"""Rasa's RulePolicy finds the rules that match a conversation by checking every
rule against the conversation's latest state, then the survivors against the state
before it, and so on back to the start of the conversation. On a loaded server that
walk was a tenth of Rasa's time (docs/benchmarks.md#latency), several times a
message, almost all of it spent rejecting rules for another action or intent.

`install()` swaps Rasa 3.6's `RulePolicy._get_possible_keys` for the same walk
that starts from the rules that can match the latest state (looked up by its
previous action and intent) and stops once no earlier state can remove a rule. It
returns the same rules: a test compares both on random rules and conversations. It
runs when the `bot` package is imported, which every Rasa process of ours does.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import SHOULD_NOT_BE_SET
from rasa.shared.core.generator import State

RASA_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys
"""Rasa's own walk, which the tests compare with ours."""

ANY = object()
"""A rule's latest state that does not require this value."""


def required(rule_state: State) -> tuple[Any, Any]:
    """The previous action and the intent a conversation's latest state must have
    for the rule's latest state to match it, or ANY.

    A rule state without a previous action also matches a conversation start,
    whatever the intent; one with a previous action needs each value it sets.
    """
    if not rule_state.get("prev_action"):
        return ANY, ANY
    action = rule_state["prev_action"].get("action_name")
    intent = rule_state.get("user", {}).get("intent")
    return tuple(
        value if value and value != SHOULD_NOT_BE_SET else ANY
        for value in (action, intent)
    )


@lru_cache(maxsize=16)
def rules_by_requirement(keys: tuple[str, ...]) -> dict[tuple[Any, Any], list[str]]:
    """The rule keys grouped by what their latest state requires."""
    index: dict[tuple[Any, Any], list[str]] = defaultdict(list)
    for key in keys:
        index[required(RulePolicy._rule_key_to_state(key)[-1])].append(key)
    return index


def candidates(lookup: dict[str, str], latest: State) -> list[str]:
    """The rules whose latest state can match the conversation's latest state."""
    index = rules_by_requirement(tuple(lookup))
    action = latest.get("prev_action", {}).get("action_name")
    intent = latest.get("user", {}).get("intent")
    groups = [(action, intent), (action, ANY), (ANY, intent), (ANY, ANY)]
    return [key for group in groups for key in index.get(group, [])]


def possible_keys(
    self: RulePolicy, lookup: dict[str, str], states: list[State]
) -> set[str]:
    """The rules of `lookup` that match `states` (Rasa's `_get_possible_keys`)."""
    if not states:
        return set(lookup)
    keys = candidates(lookup, states[-1])
    for turn, state in enumerate(reversed(states)):
        keys = [key for key in keys if self._is_rule_applicable(key, turn, state)]
        # A rule is applicable at every turn beyond its length: nothing can change.
        if all(len(self._rule_key_to_state(key)) <= turn + 1 for key in keys):
            break
    return set(keys)


def install() -> None:
    """Use the shorter walk in every RulePolicy."""
    RulePolicy._get_possible_keys = possible_keys  # type: ignore[method-assign]
