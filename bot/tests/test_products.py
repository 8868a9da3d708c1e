"""ProductEntityExtractor: catalog names from the lookup table, canonical values."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.products import ProductEntityExtractor, catalog_patterns
from bot.tests.conftest import message


@pytest.fixture
def extractor(training_data, model_storage, resource, execution_context):
    component = ProductEntityExtractor.create(
        {}, model_storage, resource("products"), execution_context
    )
    component.train(training_data)
    return component


def _found(component: ProductEntityExtractor, text: str) -> list[tuple[str, str]]:
    (parsed,) = component.process([message(text)])
    return [
        (text[e["start"] : e["end"]], e["value"]) for e in parsed.get("entities", [])
    ]


def test_patterns_map_names_to_synonyms(training_data) -> None:
    patterns = catalog_patterns(training_data, "product")
    assert patterns["奥拉耳机"] == "AUR-BUDS"
    assert patterns["Auralis Buds"] == "AUR-BUDS"
    # no synonym: the name is its own canonical value
    assert patterns["Zenko Robot Vacuum"] == "Zenko Robot Vacuum"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my auralis buds stopped working", [("auralis buds", "AUR-BUDS")]),
        ("我的奥拉耳机没声音了", [("奥拉耳机", "AUR-BUDS")]),
        ("我的Auralis Buds坏了", [("Auralis Buds", "AUR-BUDS")]),
        ("refund the 维洛智能手表 please", [("维洛智能手表", "VEL-WATCH")]),
        (
            "Kito Smart Kettle and the Zenko Robot Vacuum!",
            [
                ("Kito Smart Kettle", "KIT-KETTLE"),
                ("Zenko Robot Vacuum", "Zenko Robot Vacuum"),
            ],
        ),
        ("我的禅扫地机器人不转了", [("禅扫地机器人", "禅扫地机器人")]),
        ("where is my order", []),
    ],
)
def test_finds_products_in_both_languages(extractor, text, expected) -> None:
    assert _found(extractor, text) == expected


def test_entity_shape(extractor) -> None:
    (parsed,) = extractor.process([message("退基托智能水壶")])
    assert parsed.get("entities") == [
        {
            "entity": "product",
            "start": 1,
            "end": 7,
            "value": "KIT-KETTLE",
            "confidence_entity": 1.0,
            "extractor": "ProductEntityExtractor",
        }
    ]


def test_replaces_overlapping_products_of_other_extractors(extractor) -> None:
    other = {
        "entity": "product",
        "start": 3,
        "end": 9,
        "value": "buds s",
        "extractor": "CRFEntityExtractor",
    }
    order = {
        "entity": "order_number",
        "start": 20,
        "end": 28,
        "value": "A1000123",
        "extractor": "RegexEntityExtractor",
    }
    parsed = Message(
        data={"text": "my Auralis Buds for A1000123", "entities": [other, order]}
    )
    extractor.process([parsed])
    assert [(e["entity"], e["extractor"]) for e in parsed.get("entities")] == [
        ("order_number", "RegexEntityExtractor"),
        ("product", "ProductEntityExtractor"),
    ]


def test_persist_and_load(extractor, model_storage, resource, execution_context):
    loaded = ProductEntityExtractor.load(
        {}, model_storage, resource("products"), execution_context
    )
    text = "我的云朵加湿器 and my Nimbus Humidifier"
    assert _found(loaded, text) == _found(extractor, text)
    assert [v for _, v in _found(loaded, text)] == ["NIM-HUM", "NIM-HUM"]


def test_new_catalog_name_needs_only_retraining(
    model_storage, resource, execution_context
) -> None:
    data = TrainingData(
        lookup_tables=[{"name": "product", "elements": ["Orbit Lamp", "轨道台灯"]}]
    )
    component = ProductEntityExtractor.create(
        {}, model_storage, resource("p2"), execution_context
    )
    assert _found(component, "my orbit lamp flickers") == []
    component.train(data)
    assert _found(component, "my orbit lamp flickers") == [("orbit lamp", "Orbit Lamp")]
    assert _found(component, "轨道台灯坏了") == [("轨道台灯", "轨道台灯")]


def test_lookup_file_reference_is_rejected() -> None:
    data = TrainingData(lookup_tables=[{"name": "product", "elements": "x.txt"}])
    with pytest.raises(ValueError, match="inline"):
        catalog_patterns(data, "product")
