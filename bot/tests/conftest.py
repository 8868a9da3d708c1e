"""Shared fixtures for component tests: real model storage and training data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

DATA = Path(__file__).parent / "data"


@pytest.fixture
def model_storage(tmp_path: Path) -> ModelStorage:
    """A real local model storage in a temporary folder."""
    return LocalModelStorage(tmp_path)


@pytest.fixture
def execution_context() -> ExecutionContext:
    """An execution context as the graph runner would pass it."""
    from rasa.engine.graph import GraphSchema

    return ExecutionContext(GraphSchema({}), model_id="test", node_name="node")


@pytest.fixture
def resource() -> Callable[[str], Resource]:
    """Makes a resource with the given name."""
    return Resource


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of fixture files."""
    return DATA


@pytest.fixture
def training_data() -> TrainingData:
    """The fixture NLU data, loaded the way `rasa train` loads it."""
    importer = RasaFileImporter(training_data_paths=[str(DATA / "nlu.yml")])
    return importer.get_nlu_data()


def message(text: str) -> Message:
    """A message as it reaches the pipeline at inference time."""
    return Message(data={"text": text})
