"""ScopedCRFEntityExtractor: learns only the entity types it is given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.entities import ScopedCRFEntityExtractor, without_entities
from bot.components.tokenizer import MixedTokenizer
from bot.tests.conftest import message


def _extractor(config, model_storage, resource, execution_context):
    return ScopedCRFEntityExtractor.create(
        {**ScopedCRFEntityExtractor.get_default_config(), **config},
        model_storage,
        resource("crf"),
        execution_context,
    )


def test_without_entities_copies_the_message(training_data) -> None:
    original = next(
        m
        for m in training_data.training_examples
        if {e["entity"] for e in m.get("entities", [])} == {"order_number"}
    )
    copy = without_entities(original, {"order_number"})
    assert copy.get("entities") == []
    assert original.get("entities")  # the training data itself is untouched
    assert copy.get("text") == original.get("text")


def test_train_process_persist_load(
    training_data, model_storage, resource, execution_context
) -> None:
    tokenizer = MixedTokenizer.create(
        {}, model_storage, resource("t"), execution_context
    )
    featurizer = RegexFeaturizer.create(
        RegexFeaturizer.get_default_config(),
        model_storage,
        resource("regex"),
        execution_context,
    )
    tokenizer.process_training_data(training_data)
    featurizer.train(training_data)
    featurizer.process_training_data(training_data)

    def prepare(texts: list[str]):
        return featurizer.process(tokenizer.process([message(t) for t in texts]))

    config = {"ignore_entities": ["order_number", "product"]}
    extractor = _extractor(config, model_storage, resource, execution_context)
    extractor.train(training_data)

    texts = [
        "refund 25.50 dollars to my card",
        "请退199元给我",
        "where is my order A1000123 for the Auralis Buds",
    ]
    messages = prepare(texts)
    found = [
        {(e["entity"], e["value"]) for e in m.get("entities", [])}
        for m in extractor.process(messages)
    ]
    assert ("amount", "25.50") in found[0]
    assert ("amount", "199") in found[1]
    assert not {name for name, _ in found[2]} & {"order_number", "product"}
    # the annotations stay in the training data for the other components
    assert any(
        e["entity"] == "order_number"
        for m in training_data.training_examples
        for e in m.get("entities", [])
    )

    loaded = ScopedCRFEntityExtractor.load(
        {**ScopedCRFEntityExtractor.get_default_config(), **config},
        model_storage,
        resource("crf"),
        execution_context,
    )
    again = prepare(texts)
    assert [m.get("entities", []) for m in loaded.process(again)] == [
        m.get("entities", []) for m in messages
    ]


REGEX_FILE = Path(__file__).resolve().parents[2] / "nlu_data" / "train" / "regex.yml"


@pytest.fixture(scope="module")
def regex_data() -> TrainingData:
    """The real regex file, loaded the way `rasa train` loads it."""
    return RasaFileImporter(training_data_paths=[str(REGEX_FILE)]).get_nlu_data()


@pytest.fixture(scope="module")
def date_patterns(regex_data: TrainingData) -> list[str]:
    """The `date_shape` patterns of the real regex file."""
    return [
        f["pattern"] for f in regex_data.regex_features if f["name"] == "date_shape"
    ]


def _spans(patterns: list[str], text: str) -> list[str]:
    """Every match, case-insensitive as RegexFeaturizer runs it."""
    return [
        m.group()
        for pattern in patterns
        for m in re.finditer(pattern, text, flags=re.IGNORECASE)
    ]


PHONES = [
    *("+1 415 555 0148", "+14155550148", "+1-415-555-0148", "+1 (415) 555-0148"),
    *("+44 20 7946 0321", "+44 (0)20 7946 0321", "0044 20 7946 0000"),
    *("+86 138 0013 8000", "+86-138-0013-8000", "13800138000", "138 0013 8000"),
    *("138-0013-8000", "415-555-0148", "415.555.0148", "415 555 0148"),
    *("(415) 555-0148", "(415)555-0148", "010-62345678", "0755-2345678"),
    *("021 6123 4567", "020 7946 0321", "07700 900123", "0412 345 678"),
]
NOT_PHONES = [
    *("A1000448", "2026-11-03", "rated 4/5", "INV-000001234", "199.00", "12345"),
    *("SF123456789012", "1Z999AA10123456784", "1,234.56", "2026年11月3日"),
    *("192.168.1.1", "415-555-01489", "v1.2.3", "order 1234567", "3.14159"),
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_pattern_finds_the_whole_number(regex_data, phone: str) -> None:
    patterns = [f["pattern"] for f in regex_data.regex_features if f["name"] == "phone"]
    assert _spans(patterns, f"my number is {phone}, thanks") == [phone]
    assert _spans(patterns, f"手机{phone}谢谢") == [phone]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_phone_pattern_leaves_other_numbers(regex_data, text: str) -> None:
    patterns = [f["pattern"] for f in regex_data.regex_features if f["name"] == "phone"]
    assert _spans(patterns, text) == []


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("i ordered on 2026-11-03, not 03/11", ["2026-11-03", "03/11"]),
        ("placed on 3 Nov, or was it November 3rd", ["3 Nov", "November 3rd"]),
        ("it was on the 3rd of May", ["the 3rd of May"]),
        ("ordered last Monday, two days ago", ["last Monday", "two days ago"]),
        ("charged yesterday evening and today", ["yesterday evening", "today"]),
        ("arrive by next Friday?", ["next Friday"]),
        ("我11月3号下的单", ["11月3号"]),
        ("2026年11月3日买的 3号到", ["2026年11月3日", "3号"]),
        ("上周五和三天前各下了一单", ["上周五", "三天前"]),
        ("下周一能到吗 上个月的呢", ["下周一", "上个月"]),
        # not dates: ratings, opening hours, addresses, billing periods
        ("rating 4/5, 10/10 would buy again", []),
        ("is customer service 24/7", []),
        ("改成建国路88号 3号楼", []),
        ("下个周期开始换成进阶版", []),
        ("may i pay the 2nd time", []),
    ],
)
def test_date_shape_patterns(date_patterns, text: str, dates: list[str]) -> None:
    assert sorted(_spans(date_patterns, text)) == sorted(dates)


def test_date_shape_is_a_feature_not_an_entity(
    regex_data, model_storage, resource, execution_context
) -> None:
    """RegexEntityExtractor leaves dates to the CRF, so none are duplicated."""
    text = "order A1000123 from 3 Nov"
    annotated = Message(
        data={
            "text": text,
            "intent": "order_status",
            "entities": [
                {"start": 6, "end": 14, "value": "A1000123", "entity": "order_number"},
                {"start": 20, "end": 25, "value": "3 Nov", "entity": "date"},
            ],
        }
    )
    data = regex_data.merge(TrainingData(training_examples=[annotated]))
    extractor = RegexEntityExtractor.create(
        {**RegexEntityExtractor.get_default_config(), "use_lookup_tables": False},
        model_storage,
        resource("regex_entities"),
        execution_context,
    )
    extractor.train(data)
    (parsed,) = extractor.process([message(text)])
    assert [e["entity"] for e in parsed.get("entities", [])] == ["order_number"]
