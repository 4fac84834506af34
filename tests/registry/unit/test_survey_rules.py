"""The survey's rules: offered once a ticket is served, answered once; the questionnaire is
the regulation's nine elements with four labels each."""

import pytest

from botram_registry.domain.survey import (
    ELEMENT_KEYS,
    QUESTIONNAIRE,
    SurveyState,
    check_survey_open,
    survey_state,
)
from botram_runtime.errors import Conflict


def test_the_questionnaire_has_the_nine_skm_elements_with_four_labels_each() -> None:
    assert tuple(f"u{i}" for i in range(1, 10)) == ELEMENT_KEYS
    assert [e.name for e in QUESTIONNAIRE][7:] == [
        "Penanganan pengaduan, saran dan masukan",
        "Sarana dan prasarana",
    ]
    assert all(len(set(e.labels)) == 4 and e.question.endswith("?") for e in QUESTIONNAIRE)


@pytest.mark.parametrize(
    "status,outcome,answered,expected",
    [
        ("completed", "served", False, SurveyState.OPEN),
        ("completed", "served", True, SurveyState.ANSWERED),
        ("completed", "referred", False, None),
        ("completed", "rejected", False, None),
        ("waiting", None, False, None),
        ("called", None, False, None),
        ("no_show", None, False, None),
        ("transferred", "referred", False, None),
    ],
)
def test_the_survey_opens_once_the_ticket_is_served(
    status: str, outcome: str | None, answered: bool, expected: SurveyState | None
) -> None:
    assert survey_state(status, outcome, answered) is expected


@pytest.mark.parametrize(
    "state,code", [(None, "survey-not-open"), (SurveyState.ANSWERED, "survey-already-answered")]
)
def test_an_answer_is_refused_unless_the_survey_is_open(
    state: SurveyState | None, code: str
) -> None:
    check_survey_open(SurveyState.OPEN)
    with pytest.raises(Conflict) as refused:
        check_survey_open(state)
    assert refused.value.code == code
