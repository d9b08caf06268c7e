"""The built-in model: VADER sentiment (PyPI ``vaderSentiment``), for a ``text -> label`` table.

Its lexicon ships inside the package, so it runs offline. The compound score in [-1, 1] becomes
one of two labels; its confidence is how far the score is from the undecided middle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from crowdfill.assist.errors import InvalidAssistant
from crowdfill.assist.port import Prediction, Suggestion
from crowdfill.model.values import Value


class VaderAssistant:
    """Predicts ``label_column`` (``positive`` / ``negative`` by default) from ``text_column``."""

    def __init__(
        self,
        text_column: str = "text",
        label_column: str = "label",
        positive: str = "positive",
        negative: str = "negative",
    ) -> None:
        if text_column == label_column:
            raise InvalidAssistant(f"vader: the text and label columns must differ (both {text_column!r})")
        if positive == negative:
            raise InvalidAssistant(f"vader: the two labels must differ (both {positive!r})")
        self.text_column = text_column
        self.label_column = label_column
        self.positive = positive
        self.negative = negative
        # Reads the lexicon from the installed package once; scoring a sentence is then pure CPU.
        self._analyzer = SentimentIntensityAnalyzer()

    @property
    def name(self) -> str:
        return "vader"

    def verdict(self, text: str) -> Prediction:
        compound = float(self._analyzer.polarity_scores(text)["compound"])
        label = self.positive if compound >= 0 else self.negative
        return Prediction(self.label_column, label, round((1.0 + abs(compound)) / 2.0, 4))

    async def predict(self, values: Mapping[str, Value], column: str) -> Prediction | None:
        text = values.get(self.text_column)
        if column != self.label_column or not isinstance(text, str) or not text.strip():
            return None
        return self.verdict(text)

    async def suggest(self, values: Mapping[str, Value], columns: Sequence[str]) -> list[Suggestion]:
        if self.label_column not in columns:
            return []
        prediction = await self.predict(values, self.label_column)
        if prediction is None:
            return []
        return [Suggestion(prediction.column, prediction.value, prediction.confidence)]
