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


async def test_a_client_holding_past_a_followers_head_gets_a_snapshot_though_it_is_of_the_same_run() -> None:
    # The leader's own client was forwarded an op early, then the leader was killed before its
    # append; the client reconnects to a follower before the takeover. The follower still has the
    # dead leader's run and its durable head: a replay from there (nothing) would leave the client
    # with an op the log never got, and it would skip the new leader's op of the same seq.
    store = open_store("memory://")
    await store.open()
    leader = await launch_owner(store, ONE_ROW)
    follower = TableOwner(
        leader.table_id, spec_from_json(ONE_ROW), LIVE, store, test_settings(), QuietListener()
    )
    follower.leading = False
    await follower.load()
    assert follower.incarnation == leader.incarnation
    assert follower.replays_for(leader.incarnation, follower.seq)
    assert not follower.replays_for(leader.incarnation, follower.seq + 1)
    await leader.stop()
    await follower.stop()
    await store.close()
