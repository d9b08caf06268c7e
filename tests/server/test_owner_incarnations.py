"""The runs of a table's owner the store remembers (early forwarding, docs/protocol.md "Incarnations")."""

from __future__ import annotations

from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import INCARNATION_KIND, KEPT_INCARNATIONS, LIVE, TableOwner
from crowdfill.store import open_store
from tests.server.owner_support import ONE_ROW, QuietListener, launch_owner
from tests.support.live_server import test_settings


async def test_the_store_keeps_only_the_newest_runs_and_a_client_of_a_forgotten_one_gets_a_snapshot() -> None:
    store = open_store("memory://")
    await store.open()
    owner = await launch_owner(store, ONE_ROW)
    runs = [owner.incarnation]
    await owner.stop()
    for _ in range(KEPT_INCARNATIONS + 3):
        owner = TableOwner(
            owner.table_id, spec_from_json(ONE_ROW), LIVE, store, test_settings(), QuietListener()
        )
        await owner.load()
        runs.append(owner.incarnation)
        await owner.stop()

    stored = {key for key, _ in await store.list_items(owner.table_id, INCARNATION_KIND)}
    assert stored == set(runs[-KEPT_INCARNATIONS:])
    # The last owner still answers a client of a kept run with a replay (nothing was lost: every
    # run started at the same durable seq), and one of a forgotten run with a snapshot.
    assert owner.replays_for(runs[-KEPT_INCARNATIONS], owner.seq)
    assert not owner.replays_for(runs[0], owner.seq)
    await store.close()
