"""The monitor's view of the fooled-the-model bonus: the requester's share, the pool, each worker's part.

Live, it is the bonus of the settlement the current final table would have (the estimator's,
cached per operation); once the table is settled, the settlement's own.
"""

from __future__ import annotations

import math
from typing import Any

from crowdfill.server.owner import TableOwner


def fooled_bonus_view(owner: TableOwner) -> dict[str, Any]:
    settings = owner.spec.compensation
    share = settings.fooled_bonus_fraction
    if share == 0:
        return {"bonus_share": 0.0, "bonus_pool_cents": 0, "bonus_cents": {}}
    settlement = owner.settlement if owner.settlement is not None else owner.estimator.settlement()
    return {
        "bonus_share": float(share),
        # Set aside whether or not a row has fooled the model yet: the estimates promise only the rest.
        "bonus_pool_cents": math.floor(settings.budget_cents * share),
        "bonus_cents": dict(settlement.fooled_bonus.payments),
    }
