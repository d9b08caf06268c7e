from __future__ import annotations

import asyncio

from crowdfill.server.turns import Turns


async def _holder(turns: Turns, key: str, name: str, log: list[str], release: asyncio.Event) -> None:
    async with turns.turn(key):
        log.append(f"{name} in")
        await release.wait()
        log.append(f"{name} out")


async def test_turns_of_one_key_are_held_one_at_a_time_in_the_order_asked() -> None:
    turns, log = Turns(), list[str]()
    releases = [asyncio.Event() for _ in range(3)]
    tasks = [
        asyncio.ensure_future(_holder(turns, "ann", n, log, r)) for n, r in zip("abc", releases, strict=True)
    ]
    await asyncio.sleep(0)
    releases[2].set()  # the last one is ready first and still waits for its turn
    await asyncio.sleep(0.01)
    assert log == ["a in"]
    releases[0].set()
    releases[1].set()
    await asyncio.gather(*tasks)
    assert log == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert len(turns) == 0


async def test_turns_of_different_keys_do_not_wait_for_each_other() -> None:
    turns, log = Turns(), list[str]()
    held = asyncio.Event()
    first = asyncio.ensure_future(_holder(turns, "ann", "ann", log, held))
    other = asyncio.ensure_future(_holder(turns, "bob", "bob", log, asyncio.Event()))
    await asyncio.sleep(0.01)
    assert log == ["ann in", "bob in"]
    held.set()
    await first
    assert len(turns) == 1  # bob's turn is still held
    other.cancel()
    await asyncio.gather(other, return_exceptions=True)
    assert len(turns) == 0


async def test_a_turn_cancelled_while_it_waits_still_keeps_the_next_one_behind_the_one_before() -> None:
    turns, log = Turns(), list[str]()
    releases = [asyncio.Event() for _ in range(3)]
    tasks = [
        asyncio.ensure_future(_holder(turns, "ann", n, log, r)) for n, r in zip("abc", releases, strict=True)
    ]
    await asyncio.sleep(0.01)
    tasks[1].cancel()  # b gives up while a holds the turn
    releases[2].set()
    await asyncio.sleep(0.01)
    assert log == ["a in"]  # c still waits for a
    releases[0].set()
    await asyncio.gather(tasks[0], tasks[2])
    assert log == ["a in", "a out", "c in", "c out"]
    assert tasks[1].cancelled()
    assert len(turns) == 0


async def test_a_turn_whose_holder_failed_is_handed_on() -> None:
    turns = Turns()

    async def failing() -> None:
        async with turns.turn("ann"):
            await asyncio.sleep(0)
            raise ValueError("no")

    first = asyncio.ensure_future(failing())
    log: list[str] = []
    release = asyncio.Event()
    release.set()
    second = asyncio.ensure_future(_holder(turns, "ann", "b", log, release))
    await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(first.exception(), ValueError)
    assert log == ["b in", "b out"]
    assert len(turns) == 0
