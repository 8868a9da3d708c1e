"""The pipeline of config.yml, trained by Rasa on the fixture data and parsed.

Checks what actions rely on: `sentiment`, `language` and our entities reach the
parse result that becomes `tracker.latest_message`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.shared.utils.io import read_yaml_file, write_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def parse(tmp_path_factory, data_dir):
    """Trains config.yml's pipeline (short epochs) and returns a parse function."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    tmp = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as patch:
        # Rasa's training cache goes to the temporary folder, not ./.rasa
        patch.setenv("RASA_CACHE_DIRECTORY", str(tmp / "cache"))
        model = _train(tmp, data_dir, train_nlu)
    agent = Agent.load(model)
    return lambda text: asyncio.run(agent.parse_message(text))


def _train(tmp: Path, data_dir: Path, train_nlu) -> str:
    config = read_yaml_file(str(ROOT / "config.yml"))
    for item in config["pipeline"]:
        if "epochs" in item:
            item["epochs"] = 2
        if item["name"].endswith("MixedTokenizer"):
            item["dictionary_path"] = str(data_dir / "userdict.txt")
    config_file = tmp / "config.yml"
    write_yaml(config, config_file)
    return train_nlu(
        str(config_file),
        str(data_dir / "nlu.yml"),
        str(tmp / "models"),
        domain=str(data_dir / "responses.yml"),
    )


def test_parse_result_carries_our_outputs(parse) -> None:
    result = parse("my Auralis Buds broke after a day, your service is terrible")
    assert result["sentiment"]["label"] == "negative"
    assert -1.0 <= result["sentiment"]["score"] < 0
    assert result["language"] == "en"
    entities = {(e["entity"], e["value"]) for e in result["entities"]}
    assert ("product", "AUR-BUDS") in entities
    assert ("language", "en") in entities


def test_chinese_message_with_order_number(parse) -> None:
    result = parse("我的订单A1000999到哪了")
    assert result["intent"]["name"] == "order_status"
    assert result["language"] == "zh"
    entities = {(e["entity"], e["value"], e["extractor"]) for e in result["entities"]}
    assert ("order_number", "A1000999", "RegexEntityExtractor") in entities


def test_neutral_message_leaves_language_out(parse) -> None:
    result = parse("A1000999")
    assert "language" not in result
    assert all(e["entity"] != "language" for e in result["entities"])


def test_faq_answer_comes_from_the_intent_classifier(parse) -> None:
    result = parse("do you take credit cards or paypal")
    assert result["intent"]["name"] == "faq"
    answer = result["response_selector"]["faq"]["response"]
    assert answer["utter_action"] == "utter_faq/payment_methods"
    assert answer["responses"] == [{"text": "We accept cards, PayPal and Alipay."}]
    assert result["response_selector"]["all_retrieval_intents"] == ["faq"]
