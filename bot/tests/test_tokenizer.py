"""MixedTokenizer: English, Chinese and mixed text; dictionary saved in the model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.components.tokenizer import MixedTokenizer
from bot.tests.conftest import message


def _texts(tokenizer: MixedTokenizer, text: str) -> list[str]:
    return [t.text for t in tokenizer.tokenize(message(text), "text")]


@pytest.fixture
def tokenizer(model_storage, resource, execution_context, data_dir):
    config = {"dictionary_path": str(data_dir / "userdict.txt")}
    return MixedTokenizer.create(
        config, model_storage, resource("tokenizer"), execution_context
    )


def test_english_keeps_codes_emails_and_contractions(tokenizer) -> None:
    text = "Where's order A1000123? Mail bob.li@example.com, I can't pay $25.50!"
    assert _texts(tokenizer, text) == [
        "Where's",
        "order",
        "A1000123",
        "Mail",
        "bob.li@example.com",
        "I",
        "can't",
        "pay",
        "$",
        "25.50",
    ]


def test_chinese_and_mixed_text(tokenizer) -> None:
    assert _texts(tokenizer, "我的订单A1000123到哪了") == [
        "我",
        "的",
        "订单",
        "A1000123",
        "到",
        "哪",
        "了",
    ]
    assert _texts(tokenizer, "my 奥拉耳机 is broken 😡") == [
        "my",
        "奥拉耳机",
        "is",
        "broken",
        "😡",
    ]


def test_offsets_point_into_the_text(tokenizer) -> None:
    text = "  退款 for A1000123，谢谢 "
    for token in tokenizer.tokenize(message(text), "text"):
        assert text[token.start : token.end] == token.text


def test_punctuation_only_message_keeps_one_token(tokenizer) -> None:
    assert _texts(tokenizer, " ?? ") == ["??"]


def test_user_dictionary_keeps_product_names_whole(
    model_storage, resource, execution_context
) -> None:
    plain = MixedTokenizer.create({}, model_storage, resource("p"), execution_context)
    assert "基托智能水壶" not in _texts(plain, "我的基托智能水壶坏了")


def test_process_training_data_and_messages(tokenizer, training_data) -> None:
    tokenizer.process_training_data(training_data)
    example = training_data.intent_examples[0]
    assert [t.text for t in example.get("text_tokens")] == ["hi", "there"]
    processed = tokenizer.process([Message(data={"text": "你好 hello"})])
    assert [t.text for t in processed[0].get("text_tokens")] == ["你好", "hello"]


def test_train_persist_load_keeps_the_dictionary(
    tmp_path: Path, model_storage, resource, execution_context, data_dir
) -> None:
    userdict = tmp_path / "userdict.txt"
    shutil.copyfile(data_dir / "userdict.txt", userdict)
    config = {"dictionary_path": str(userdict)}
    trained = MixedTokenizer.create(
        config, model_storage, resource("tok"), execution_context
    )
    trained.train(training_data=None)  # type: ignore[arg-type]
    userdict.unlink()  # the loaded model must not need the source file

    loaded = MixedTokenizer.load(
        config, model_storage, resource("tok"), execution_context
    )
    assert _texts(loaded, "基托智能水壶漏水") == _texts(trained, "基托智能水壶漏水")
    assert _texts(loaded, "基托智能水壶漏水")[0] == "基托智能水壶"


def test_fingerprint_follows_dictionary_content(tmp_path: Path) -> None:
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("奥拉耳机 1000 n\n", encoding="utf-8")
    config = {"dictionary_path": str(userdict)}
    before = MixedTokenizer.fingerprint_addon(config)
    userdict.write_text("奥拉耳机 1000 n\n云朵加湿器 1000 n\n", encoding="utf-8")
    assert MixedTokenizer.fingerprint_addon(config) != before
    assert MixedTokenizer.fingerprint_addon({}) is None


def test_missing_dictionary_is_a_clear_error(
    tmp_path: Path, model_storage, resource, execution_context
) -> None:
    config = {"dictionary_path": str(tmp_path / "missing.txt")}
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        MixedTokenizer.create(config, model_storage, resource("t"), execution_context)
