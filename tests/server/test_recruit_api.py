"""Marketplace sessions need a URL the requester published: no invented workers, one session each."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table, error_code, recruit_query
from tests.support.worker_client import WorkerClient


def mturk(worker: str, assignment: str = "AS1", hit: str = "H1", **signed: str) -> dict[str, Any]:
    return {"platform": "mturk", "worker_id": worker, "assignment_id": assignment, "hit_id": hit, **signed}


def prolific(worker: str, study: str = "st1", **signed: str) -> dict[str, Any]:
    return {"platform": "prolific", "worker_id": worker, "study_id": study, "session_id": "se1", **signed}


def signed_mturk(query: dict[str, str]) -> dict[str, str]:
    return {"batch": query["cf_batch"], "signature": query["cf_sig"]}


async def test_invented_mturk_workers_without_a_signature_get_no_session(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    sessions = f"/api/tables/{table['id']}/sessions"
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        for worker in ("FAKE1", "FAKE2", "FAKE3", "FAKE4"):
            refused = await public.post(sessions, json=mturk(worker, assignment=f"AS{worker}"))
            assert refused.status_code == 403
            assert error_code(refused) == "signature_missing"
        forged = await public.post(sessions, json=mturk("FAKE5", batch="b00", signature="c2lnbmVk"))
        assert error_code(forged) == "signature_invalid"
        unsigned_prolific = await public.post(sessions, json=prolific("p1"))
        assert error_code(unsigned_prolific) == "signature_missing"


async def test_a_signed_mturk_url_admits_its_workers_to_that_table_only(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    other = await create_table(http, CAPITALS)
    query = await recruit_query(http, table["id"])
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        admitted = await public.post(
            f"/api/tables/{table['id']}/sessions", json=mturk("A1", **signed_mturk(query))
        )
        assert admitted.status_code == 201
        assert admitted.json()["worker_id"] == "mturk:A1"
        elsewhere = await public.post(
            f"/api/tables/{other['id']}/sessions", json=mturk("A1", **signed_mturk(query))
        )
        assert error_code(elsewhere) == "signature_invalid"
        swapped = {"batch": "b" + "0" * 16, "signature": query["cf_sig"]}
        other_batch = await public.post(f"/api/tables/{table['id']}/sessions", json=mturk("A2", **swapped))
        assert error_code(other_batch) == "signature_invalid"
    worker = WorkerClient(server.base_url, admitted.json()["token"])
    await worker.connect()
    assert worker.rows()
    await worker.disconnect()


async def test_once_a_batchs_hits_are_recorded_a_visit_must_come_from_one_of_them(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    query = await recruit_query(http, table["id"])
    recorded = await http.post(
        f"/api/tables/{table['id']}/recruit-urls/{query['cf_batch']}/hits", json={"hit_ids": ["HITA", "HITB"]}
    )
    assert recorded.json() == {"batch": query["cf_batch"], "hit_ids": ["HITA", "HITB"]}
    sessions = f"/api/tables/{table['id']}/sessions"
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        foreign = await public.post(sessions, json=mturk("A1", hit="HITZ", **signed_mturk(query)))
        assert foreign.status_code == 403
        assert error_code(foreign) == "hit_foreign"
        ours = await public.post(sessions, json=mturk("A1", hit="HITB", **signed_mturk(query)))
        assert ours.status_code == 201
    unknown = await http.post(f"/api/tables/{table['id']}/recruit-urls/b-nope/hits", json={"hit_ids": ["H"]})
    assert error_code(unknown) == "not_found"


async def test_a_prolific_signature_admits_only_the_study_it_names(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    made = await http.post(
        f"/api/tables/{table['id']}/recruit-urls", json={"platform": "prolific", "study_id": "st1"}
    )
    assert made.status_code == 201
    answer = made.json()
    assert answer["url"].endswith(
        "&PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )
    assert f"/w/{table['id']}?cf_sig={answer['signature']}" in answer["url"]
    sessions = f"/api/tables/{table['id']}/sessions"
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        other_study = await public.post(
            sessions, json=prolific("p1", study="st2", signature=answer["signature"])
        )
        assert error_code(other_study) == "signature_invalid"
        admitted = await public.post(sessions, json=prolific("p1", signature=answer["signature"]))
        assert admitted.status_code == 201
        assert admitted.json()["worker_id"] == "prolific:p1"


async def test_the_same_marketplace_worker_asking_again_gets_the_session_they_have(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    query = signed_mturk(await recruit_query(http, table["id"]))
    sessions = f"/api/tables/{table['id']}/sessions"
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        first = (await public.post(sessions, json=mturk("A1", assignment="AS1", **query))).json()
        again = (await public.post(sessions, json=mturk("A1", assignment="AS2", hit="H2", **query))).json()
    assert again == first
    # Both arrivals are one worker with one session: the first token still joins.
    worker = WorkerClient(server.base_url, first["token"])
    await worker.connect()
    await worker.disconnect()


async def test_signing_a_recruiting_url_needs_the_requester_token_and_a_known_table(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        anonymous = await public.post(f"/api/tables/{table['id']}/recruit-urls", json={"platform": "mturk"})
        assert error_code(anonymous) == "unauthorized"
    missing = await http.post("/api/tables/t-none/recruit-urls", json={"platform": "mturk"})
    assert error_code(missing) == "table_not_found"
    bad_study = await http.post(
        f"/api/tables/{table['id']}/recruit-urls", json={"platform": "prolific", "study_id": "a b"}
    )
    assert error_code(bad_study) == "malformed"
