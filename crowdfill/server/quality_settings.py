"""A table's reputation settings (the definition's ``quality`` block, docs/quality.md)."""

from __future__ import annotations

from dataclasses import dataclass

from crowdfill.quality import ReputationSettings
from crowdfill.wire.definition import QualityModel


@dataclass(frozen=True)
class QualitySettings:
    """``floor``: an estimate below it weighs 0 (quarantine); ``step``: how far the weight an
    estimate earns must move from the one in force before the server reweighs; the emitter looks
    after every ``every_ops`` operations and every ``every_seconds`` (0: only after operations)."""

    floor: float = 0.6
    step: float = 0.25
    every_ops: int = 10
    every_seconds: float = 5.0

    @property
    def reputation(self) -> ReputationSettings:
        return ReputationSettings(floor=self.floor)


DEFAULT_QUALITY = QualitySettings()


def quality_from(model: QualityModel | None) -> QualitySettings:
    if model is None:
        return DEFAULT_QUALITY
    return QualitySettings(float(model.floor), float(model.step), model.every_ops, float(model.every_seconds))
