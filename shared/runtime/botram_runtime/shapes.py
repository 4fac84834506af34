"""Answers built from use-case results: a schema's fields read from the attributes of the
same names, so a route maps a result without naming every field again."""

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def shaped(model: type[M], source: object, **given: Any) -> M:
    """`model` filled from `source`'s attributes of its fields' names (nested objects become
    nested models the same way; a field `source` lacks keeps its default), `given` on top."""
    values = {
        name: getattr(source, name)
        for name in model.model_fields
        if name not in given and hasattr(source, name)
    }
    return model.model_validate({**values, **given}, from_attributes=True)
