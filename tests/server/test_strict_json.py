"""What the edge accepts can always be read back: strict JSON, and tables after any accepted value."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdfill.server import strict_json
from tests.support.live_server import live_server, test_settings
from tests.support.worker_client import WorkerClient

# Every code point, lone surrogates included, plus strings known to trouble encoders and CSV.
ANY_CHARACTER = st.integers(0, 0x10FFFF).map(chr)
ODD_TEXT = st.sampled_from(
    [
        *["\udfff", "\ud800", "x\udbff", "\x00", "a\x00b", "\ufeff", "\ufffe", "\uffff", "\u202e"],
        *["\r\n", '"', "\\", "=cmd|' /C calc'!A0", "\U0010ffff", "e\u0301", "\ud83d\ude00"],
    ]
)
TEXT = st.one_of(st.text(max_size=30), st.text(ANY_CHARACTER, max_size=30), ODD_TEXT)
VALUE = st.one_of(
    TEXT,
    st.integers(),
    st.integers(min_value=-(10**130), max_value=10**130),
    st.floats(),
    st.booleans(),
    st.none(),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)
COLUMNS = ["text", "number", "integer", "boolean", "date"]


@given(value=JSON)
def test_whatever_strict_json_accepts_encodes_back_to_utf8_json(value: Any) -> None:
    text = json.dumps(value)  # ASCII with \u escapes, NaN for nan: what a careless client sends
    refusal: strict_json.JsonRefused | None = None
    try:
        accepted = strict_json.loads(text)
    except strict_json.JsonRefused as refused:
        refusal = refused
    if refusal is not None:
        assert refusal.code in ("bad_json", "malformed")
        assert refusal.message
        return
    encoded = json.dumps(accepted, ensure_ascii=False, allow_nan=False).encode("utf-8")
    assert json.loads(encoded) == accepted


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('"\\udfff"', "malformed"),
        ('{"\\ud800": 1}', "malformed"),
        ("1" * 101, "malformed"),
        ("1" * 5000, "malformed"),
        ("[" * 33 + "]" * 33, "malformed"),
        ("[" * 100_000 + "]" * 100_000, "malformed"),
        ("NaN", "malformed"),
        ("-Infinity", "malformed"),
        ("1e400", "malformed"),
        ("{", "bad_json"),
        ("", "bad_json"),
    ],
)
def test_json_that_would_break_a_table_is_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(strict_json.JsonRefused) as refused:
        strict_json.loads(text)
    assert refused.value.code == code


def test_ordinary_json_passes_unchanged() -> None:
    text = json.dumps({"row_id": "r1", "value": ["é", "😀", 1.5, -(10**99), True, None], "deep": [[[[1]]]]})
    assert strict_json.loads(text) == json.loads(text)


def definition(name: str, seed: Any, rows: int) -> dict[str, Any]:
    return {
        "name": name,
        "instructions": "Fill in anything.",
        "schema": {"columns": [{"name": "key"}] + [{"name": c, "type": c} for c in COLUMNS]},
        "scoring": {"family": "threshold", "min_votes": 2},
        "template": [{"key": seed}] + [{"key": f"seed-{index}"} for index in range(rows - 1)],
        "budget_cents": 100,
        # One scripted worker sends every generated value: faster than a person, by design.
        "rate_limit": {"ops_per_second": 10_000, "burst": 100_000},
    }


def readable(http: httpx.Client, table_id: str) -> dict[str, Any]:
    """Every view of the table answers 200 with a complete, parseable body; the candidate rows."""
    for path in ["", "/final", "/matching", "/log"]:
        response = http.get(f"/api/tables/{table_id}{path}")
        assert response.status_code == 200, (path, response.text)
    # The MTurk preview: public, with the rows.
    preview = http.get(f"/api/tables/{table_id}/public", params={"rows": "true"})
    assert preview.status_code == 200, preview.text
    candidates = http.get(f"/api/tables/{table_id}/candidates")
    assert candidates.status_code == 200
    result: dict[str, Any] = candidates.json()
    jsonl = http.get(f"/api/tables/{table_id}/export/candidates.jsonl")
    assert jsonl.status_code == 200
    # Lines end with "\n" only: str.splitlines would also split on U+2028, \x85, \x1c...
    assert len([json.loads(line) for line in jsonl.text.split("\n")[:-1]]) == len(result["rows"])
    table = http.get(f"/api/tables/{table_id}/export/candidates.csv")
    assert table.status_code == 200
    header, *records = csv.reader(io.StringIO(table.text, newline=""))
    assert len(records) == len(result["rows"])
    assert all(len(record) == len(header) for record in records)
    return result


def post_json(http: httpx.Client, path: str, body: Any) -> httpx.Response:
    # json.dumps escapes lone surrogates; httpx's own encoder would refuse to send them at all.
    return http.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


@pytest.mark.slow
def test_a_table_stays_readable_after_any_value_the_server_accepted_even_after_a_restart(
    tmp_path: Path,
) -> None:
    config = test_settings(store_url=str(tmp_path / "store.sqlite3"))
    loop = asyncio.new_event_loop()
    try:
        tables: list[str] = []
        with (
            live_server(config) as server,
            httpx.Client(base_url=server.base_url, headers=server.headers) as http,
        ):
            created = post_json(http, "/api/tables", definition("Anything", "seed", 80))
            table_id = created.json()["id"]
            tables.append(table_id)
            assert http.post(f"/api/tables/{table_id}/launch").status_code == 200
            token = http.post(f"/api/tables/{table_id}/links", json={"worker_id": "ann"}).json()["token"]
            ann = WorkerClient(server.base_url, token)
            loop.run_until_complete(ann.connect())

            @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            @given(column=st.sampled_from(COLUMNS), value=VALUE, text=TEXT)
            def accepted_values_stay_readable(column: str, value: Any, text: str) -> None:
                # A text cell gets every odd string; the others any JSON value (most are refused).
                for column_, value_ in [("text", text), (column, value)]:
                    row = next(r for r, values in ann.rows().items() if column_ not in dict(values))
                    ack = loop.run_until_complete(ann.fill(row, column_, value_))
                    if not ack["ok"]:
                        assert ack["error"]["code"] in {"malformed", "wrong_type", "integer_out_of_range"}, (
                            ack
                        )
                readable(http, table_id)

            @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            @given(name=TEXT, seed=VALUE)
            def accepted_definitions_stay_readable(name: str, seed: Any) -> None:
                response = post_json(http, "/api/tables", definition(name, seed, 1))
                assert response.status_code in (201, 400, 422), response.text
                if response.status_code == 201:
                    created = response.json()["id"]
                    assert http.post(f"/api/tables/{created}/launch").status_code == 200
                    tables.append(created)
                    readable(http, created)

            try:
                accepted_values_stay_readable()
                accepted_definitions_stay_readable()
                before = {table: readable(http, table) for table in tables}
            finally:
                loop.run_until_complete(ann.disconnect())
        with (
            live_server(config) as server,
            httpx.Client(base_url=server.base_url, headers=server.headers) as http,
        ):
            assert {table: readable(http, table) for table in tables} == before
            # And a worker can still join the table that took every value.
            ann.base_url = server.base_url
            loop.run_until_complete(ann.reconnect())
            assert ann.rows()
            loop.run_until_complete(ann.disconnect())
    finally:
        loop.close()
