"""``InFlight``: a connection's unanswered operations, waited for before the server ends it."""

from __future__ import annotations

import asyncio

from crowdfill.server.in_flight import InFlight


async def test_waiting_for_a_connections_answers_returns_once_each_is_answered_and_forgets_them() -> None:
    loop = asyncio.get_running_loop()
    in_flight = InFlight()
    first, second, other = loop.create_future(), loop.create_future(), loop.create_future()
    for sid, future in (("a", first), ("a", second), ("b", other)):
        in_flight.add(sid, future)
    waiting = asyncio.ensure_future(in_flight.answered("a", timeout=5))
    loop.call_later(0.02, first.set_result, None)
    loop.call_later(0.04, second.set_result, None)
    await asyncio.wait_for(waiting, timeout=1)
    assert (in_flight.count("a"), in_flight.count("b")) == (0, 1)
    other.cancel()
    await asyncio.sleep(0)
    assert in_flight.count("b") == 0


async def test_waiting_gives_up_after_the_timeout_and_a_done_future_is_never_tracked() -> None:
    loop = asyncio.get_running_loop()
    in_flight = InFlight()
    done = loop.create_future()
    done.set_result(None)
    in_flight.add("a", done)
    assert in_flight.count("a") == 0
    in_flight.add("a", loop.create_future())
    started = loop.time()
    await in_flight.answered("a", timeout=0.05)
    assert 0.04 < loop.time() - started < 1
    assert in_flight.count("a") == 1


async def test_an_operation_answered_within_a_block_is_in_flight_until_the_block_ends() -> None:
    in_flight = InFlight()
    with in_flight.answering("a"):
        assert in_flight.count("a") == 1
        waiting = asyncio.ensure_future(in_flight.answered("a", timeout=5))
        await asyncio.sleep(0.01)
        assert not waiting.done()
    await asyncio.wait_for(waiting, timeout=1)
    assert in_flight.count("a") == 0
