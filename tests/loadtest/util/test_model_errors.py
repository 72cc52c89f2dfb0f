"""pydantic's complaints in a file's own terms (loadtest/util/model_errors.py); thresholds.yaml's and the
scenario file's every message is tested with their loaders, this is the wording's own contract."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field, ValidationError, field_validator

from loadtest.util.model_errors import describe_validation_error
from loadtest.util.models import StrictModel


class _Inner(StrictModel):
    size: str

    @field_validator("size")
    @classmethod
    def _known(cls, value: str) -> str:
        if value != "big":
            # Our parsers begin their messages with the value, as loadtest.util.units does.
            raise ValueError(f"{value!r} is not a size such as big")
        return value


class _Root(StrictModel):
    count: Annotated[int, Field(ge=1)]
    inner: _Inner


def described(document: object) -> str:
    with pytest.raises(ValidationError) as raised:
        _Root.model_validate(document)
    return describe_validation_error(raised.value, _Root, "Key")


def test_the_value_is_not_repeated_when_the_parser_names_it() -> None:
    assert (
        described({"count": 1, "inner": {"size": "tiny"}})
        == "Key 'size' has value 'tiny': not a size such as big (in inner)"
    )


def test_a_bound_an_unknown_key_and_a_missing_one() -> None:
    assert described({"count": 0, "inner": {"size": "big"}}) == "Key 'count' has value 0: must be at least 1"
    assert described({"count": 1, "inner": {"size": "big", "colour": "red"}}) == (
        "Key 'colour' has value 'red': unknown key; expected one of size (in inner)"
    )
    assert described({"inner": {"size": "big"}}) == "Key 'count' is missing: it is required"
