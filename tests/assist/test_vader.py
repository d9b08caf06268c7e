"""The built-in sentiment model: VADER, with its lexicon from the installed package."""

from __future__ import annotations

import pytest

from crowdfill.assist import InvalidAssistant
from crowdfill.assist.vader import VaderAssistant


async def test_a_cheerful_sentence_is_predicted_positive_and_a_bitter_one_negative() -> None:
    model = VaderAssistant()
    happy = await model.predict({"text": "What a wonderful, lovely film!"}, "label")
    sad = await model.predict({"text": "This was a terrible, awful waste of time."}, "label")
    assert happy is not None
    assert sad is not None
    assert (happy.value, sad.value) == ("positive", "negative")
    assert 0.5 < happy.confidence <= 1.0
    assert 0.5 < sad.confidence <= 1.0


async def test_a_neutral_sentence_has_the_least_confidence() -> None:
    model = VaderAssistant()
    flat = await model.predict({"text": "The table has four legs."}, "label")
    strong = await model.predict({"text": "I absolutely love this!"}, "label")
    assert flat is not None
    assert strong is not None
    assert flat.confidence < strong.confidence


async def test_there_is_no_verdict_without_text_or_for_another_column() -> None:
    model = VaderAssistant()
    assert await model.predict({}, "label") is None
    assert await model.predict({"text": "   "}, "label") is None
    assert await model.predict({"text": "great"}, "text") is None


async def test_it_suggests_the_label_when_the_label_cell_is_empty() -> None:
    model = VaderAssistant(positive="pos", negative="neg")
    (suggestion,) = await model.suggest({"text": "great work"}, ["label"])
    assert (suggestion.column, suggestion.value) == ("label", "pos")
    assert await model.suggest({"text": "great work"}, []) == []


def test_the_same_column_for_text_and_label_is_refused() -> None:
    with pytest.raises(InvalidAssistant, match="must differ"):
        VaderAssistant(text_column="x", label_column="x")
