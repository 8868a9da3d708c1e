"""Rasa checks every action server response against its JSON schema with
`jsonschema.validate`, which first checks the schema itself against the 2020-12
meta-schema. That costs about 150 ms of CPU per action call on our 2-core machine,
more than half of all Rasa's time under load (docs/benchmarks.md#latency). The same
check with the validator built once takes about 10 ms and accepts and rejects exactly
the same responses, with the same error message.

`install()` swaps Rasa 3.6's `RemoteAction._validate_action_result` for that; it runs
when the `bot` package is imported, which every Rasa process of ours does (the
channels, components and lock store live here).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def response_validator() -> Validator:
    """A validator of action server responses, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server response, without re-checking the schema."""
    try:
        response_validator().validate(result)
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about "
            f"the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


def install() -> None:
    """Use the cached validator in every RemoteAction."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
