"""shaped(): an answer schema filled from a result's attributes of the same names."""

from dataclasses import dataclass

from pydantic import BaseModel

from botram_runtime.shapes import shaped


@dataclass(frozen=True)
class Step:
    action: str
    at: int
    internal: str = "not shown"


@dataclass(frozen=True)
class Result:
    number: str
    steps: tuple[Step, ...]
    code: str


class StepPublic(BaseModel):
    action: str
    at: int


class ResultPublic(BaseModel):
    number: str
    steps: list[StepPublic]
    link: str | None = None
    status: str = "waiting"


def test_fields_come_from_attributes_nested_too_and_given_ones_win() -> None:
    result = Result("DUK-007", (Step("call", 1), Step("recall", 2)), code="abc")

    answer = shaped(ResultPublic, result, link="/t/" + result.code)

    assert answer.model_dump() == {
        "number": "DUK-007",
        "steps": [{"action": "call", "at": 1}, {"action": "recall", "at": 2}],
        "link": "/t/abc",
        "status": "waiting",  # the result has no status: the schema's default
    }
