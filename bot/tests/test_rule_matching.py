"""Our walk over a conversation's states finds exactly the rules Rasa's finds."""

from __future__ import annotations

import json
import random

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import SHOULD_NOT_BE_SET
from rasa.shared.core.generator import State

from bot.rule_matching import RASA_GET_POSSIBLE_KEYS, possible_keys

ACTIONS = ["action_listen", "utter_greet", "verify_customer_form", SHOULD_NOT_BE_SET]
INTENTS = ["greet", "order_status", "deny", "affirm", SHOULD_NOT_BE_SET]
LOOPS = ["verify_customer_form", SHOULD_NOT_BE_SET]
SLOT_VALUES = [(1.0,), (0.0,), SHOULD_NOT_BE_SET]


def conversation_state(rng: random.Random) -> State:
    """A state as Rasa's featurizer makes it; sometimes a conversation start."""
    if rng.random() < 0.1:
        return {}
    state: State = {"prev_action": {"action_name": rng.choice(ACTIONS)}}
    if rng.random() < 0.7:
        state["user"] = {"intent": rng.choice(INTENTS)}
    elif rng.random() < 0.3:
        state["user"] = {"text": "where is my order"}  # a prediction from text
    if rng.random() < 0.5:
        state["active_loop"] = {"name": rng.choice(LOOPS)}
    if rng.random() < 0.5:
        state["slots"] = {"verified": rng.choice(SLOT_VALUES)}
    return state


def rule_state(rng: random.Random, seen: State) -> State:
    """A rule's state: often a part of a conversation's, so that rules match."""
    source = seen if rng.random() < 0.7 else conversation_state(rng)
    return {kind: dict(sub) for kind, sub in source.items() if rng.random() < 0.8}


def rule_key(rng: random.Random, conversation: list[State]) -> str:
    length = rng.randint(1, min(4, len(conversation)))
    states = [rule_state(rng, seen) for seen in conversation[-length:]]
    return json.dumps(states)  # as RulePolicy stores them: tuples become lists


def test_the_same_rules_as_rasas_walk() -> None:
    rng = random.Random(7)
    policy = object.__new__(RulePolicy)  # the walk needs no trained state
    matched = 0
    for _ in range(3000):
        conversation = [conversation_state(rng) for _ in range(rng.randint(1, 12))]
        others = [conversation_state(rng) for _ in range(6)]
        lookup = {
            rule_key(rng, rng.choice([conversation, others])): "action"
            for _ in range(rng.randint(1, 20))
        }
        ours = possible_keys(policy, lookup, conversation)
        assert ours == RASA_GET_POSSIBLE_KEYS(policy, lookup, conversation)
        matched += bool(ours) and len(ours) < len(lookup)
    assert matched > 500  # not vacuous: many walks keep some rules and drop others


def test_installed_in_rasa() -> None:
    assert RulePolicy._get_possible_keys is possible_keys
