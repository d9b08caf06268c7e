"""The MongoDB store, on PyMongo's native asyncio API (``pymongo.AsyncMongoClient``; Motor is end-of-life).

Collections: ``tables`` (_id = table id), ``log`` (one document per operation, unique index on
``(table_id, seq)``), ``snapshots`` (_id = table id), ``capture_heads`` and ``capture_chunks`` (state
captures, see ``save_capture``) and ``items`` (unique on table, kind, key).
Payloads are stored as JSON text, exactly as the SQLite adapter stores them, so every adapter
accepts the same values and reads back the same ones (no BSON limits on integers, no restrictions
on ``$`` or ``.`` in column names). Writes use write concern ``majority`` with journaling, reads
read concern ``majority`` from the primary: an acknowledged write survives a failover.

How ``append`` stays atomic (the choice, and why):
- On a replica set or a sharded cluster (the deployments MongoDB recommends for production) the
  batch is one multi-document transaction: the table check, the ``last_seq`` check and an ordered
  ``insert_many`` commit together or not at all. Concurrent appends to one table collide in the
  transaction; the retried loser then fails the sequence check with ``StoreConflict``.
- A standalone server has no transactions. The sequence is checked first and the batch is written
  with one ordered ``insert_many``; the unique ``(table_id, seq)`` index refuses a repeated seq
  (``StoreConflict``), and ordering stops the batch at the first refused record. Gaps and bad
  batches are refused before anything is written. What a standalone cannot give: if the server or
  the connection fails in the middle of a batch, a contiguous prefix of it may be stored although
  ``append`` raised. Those operations were never acknowledged, so nothing acknowledged is lost,
  but recovery will replay them. The server has one writer per table, so the index race never
  happens in practice. Pass ``use_transactions=True`` to refuse to run without transactions.

Leases live in ``leases`` (_id = table id) and are taken with conditional single-document updates,
which are atomic on any deployment. Fencing (``append(..., epoch=...)``) is checked inside the
append's transaction; a standalone server checks it just before writing, so a takeover landing in
between can let one last batch of the old owner through: run a replica set for several processes.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReadPreference, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from crowdfill.store._common import (
    RELEASED,
    check_batch,
    check_capture,
    check_epoch,
    check_lease_args,
    check_read,
    check_snapshot_seq,
    decode_json,
    encode_json,
)
from crowdfill.store.port import (
    JSON,
    Lease,
    LogRecord,
    StoreConflict,
    StoreError,
    TableRecord,
    UnknownTable,
)

Document = dict[str, Any]

DURABLE = WriteConcern(w="majority", j=True)
COMMITTED = ReadConcern("majority")
_DUPLICATE_KEY = 11000


_CAPTURE_CHUNK = 8 * 1024 * 1024  # bytes per chunk document, well under the 16 MB limit


class MongoStore:
    """A :class:`~crowdfill.store.port.Store` on a MongoDB database (created on first write)."""

    def __init__(
        self,
        url: str,
        database: str = "crowdfill",
        *,
        use_transactions: bool | None = None,
        server_selection_timeout_ms: int = 10_000,
    ) -> None:
        self._url = url
        self.database = database
        self._use_transactions = use_transactions
        self._timeout_ms = server_selection_timeout_ms
        self._client: AsyncMongoClient[Document] | None = None
        self._db: AsyncDatabase[Document] | None = None
        self.transactions = False
        """Whether ``append`` runs in transactions (known after ``open``)."""

    def __repr__(self) -> str:
        # The URL may carry credentials: never show it.
        return f"MongoStore(database={self.database!r})"

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._client is not None:
            return
        try:
            client: AsyncMongoClient[Document] = AsyncMongoClient(
                self._url, serverSelectionTimeoutMS=self._timeout_ms, appname="crowdfill", connect=False
            )
        except (PyMongoError, ValueError) as error:  # pymongo reports a malformed URL as either
            raise StoreError(f"MongoDB URL refused: {error}") from error
        try:
            hello = await client.admin.command("hello")
            self.transactions = self._decide_transactions(hello)
            db = client.get_database(
                self.database,
                write_concern=DURABLE,
                read_concern=COMMITTED,
                read_preference=ReadPreference.PRIMARY,
            )
            await db.log.create_index(
                [("table_id", ASCENDING), ("seq", ASCENDING)], unique=True, name="table_seq"
            )
            await db.capture_chunks.create_index(
                [("table_id", ASCENDING), ("generation", ASCENDING), ("n", ASCENDING)],
                unique=True,
                name="table_generation_n",
            )
            await db.items.create_index(
                [("table_id", ASCENDING), ("kind", ASCENDING), ("key", ASCENDING)],
                unique=True,
                name="table_kind_key",
            )
            await db.tables.create_index([("created_at", ASCENDING), ("_id", ASCENDING)], name="created")
        except BaseException as error:
            await client.close()
            if isinstance(error, PyMongoError):
                raise StoreError(f"MongoDB unavailable: {error}") from error
            raise
        self._client, self._db = client, db

    def _decide_transactions(self, hello: Mapping[str, Any]) -> bool:
        supported = supports_transactions(hello)
        if self._use_transactions and not supported:
            raise StoreError("transactions were required, but this MongoDB deployment is a standalone server")
        return supported if self._use_transactions is None else self._use_transactions

    async def close(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await client.close()

    def _require_client(self) -> AsyncMongoClient[Document]:
        if self._client is None:
            raise StoreError(f"the MongoDB store (database {self.database!r}) is not open")
        return self._client

    def _collection(self, name: str) -> AsyncCollection[Document]:
        if self._db is None:
            raise StoreError(f"the MongoDB store (database {self.database!r}) is not open")
        return self._db[name]

    # -- tables ----------------------------------------------------------------------------------

    async def create_table(self, record: TableRecord) -> None:
        document = {
            "_id": record.table_id,
            "definition": encode_json(record.definition),
            "status": record.status,
            "created_at": float(record.created_at),
            "updated_at": float(record.updated_at),
        }
        try:
            await self._collection("tables").insert_one(document)
        except DuplicateKeyError as error:
            raise StoreConflict(f"a table {record.table_id!r} is already stored") from error
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def update_table(
        self, table_id: str, *, definition: JSON | None = None, status: str | None = None, at: float
    ) -> TableRecord:
        changes: Document = {"updated_at": float(at)}
        if definition is not None:
            changes["definition"] = encode_json(definition)
        if status is not None:
            changes["status"] = status
        try:
            document = await self._collection("tables").find_one_and_update(
                {"_id": table_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
            )
        except PyMongoError as error:
            raise _unavailable(error) from error
        if document is None:
            raise UnknownTable(f"no table {table_id!r} is stored")
        return _table_record(document)

    async def get_table(self, table_id: str) -> TableRecord | None:
        try:
            document = await self._collection("tables").find_one({"_id": table_id})
        except PyMongoError as error:
            raise _unavailable(error) from error
        return None if document is None else _table_record(document)

    async def list_tables(self) -> list[TableRecord]:
        cursor = self._collection("tables").find().sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        try:
            return [_table_record(document) async for document in cursor]
        except PyMongoError as error:
            raise _unavailable(error) from error

    # -- the log ---------------------------------------------------------------------------------

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        client = self._require_client()
        if not records:
            return
        batch = list(records)
        operations = [encode_json(record.operation) for record in batch]
        try:
            if self.transactions:
                async with client.start_session() as session:
                    await session.with_transaction(
                        lambda s: self._append(table_id, batch, operations, s, epoch),
                        read_concern=COMMITTED,
                        write_concern=DURABLE,
                    )
            else:
                await self._append(table_id, batch, operations, None, epoch)
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def _append(
        self,
        table_id: str,
        records: list[LogRecord],
        operations: list[str],
        session: AsyncClientSession | None,
        epoch: int | None,
    ) -> None:
        if await self._collection("tables").find_one({"_id": table_id}, {"_id": 1}, session=session) is None:
            raise UnknownTable(f"no table {table_id!r} is stored")
        if epoch is not None:
            lease = await self._collection("leases").find_one({"_id": table_id}, session=session)
            check_epoch(table_id, epoch, None if lease is None else int(lease["epoch"]))
        check_batch(table_id, await self._last_seq(table_id, session), records)
        documents = [
            {"table_id": table_id, "seq": record.seq, "operation": operation, "at": float(record.at)}
            for record, operation in zip(records, operations, strict=True)
        ]
        await self._collection("log").insert_many(documents, ordered=True, session=session)

    async def read_log(self, table_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogRecord]:
        check_read(after_seq, limit)
        if limit == 0:
            return []  # MongoDB reads limit 0 as "no limit"
        cursor = (
            self._collection("log")
            .find(
                {"table_id": table_id, "seq": {"$gt": after_seq}},
                {"_id": 0, "seq": 1, "operation": 1, "at": 1},
            )
            .sort("seq", ASCENDING)
        )
        if limit is not None:
            cursor = cursor.limit(limit)
        try:
            return [LogRecord(d["seq"], decode_json(d["operation"]), d["at"]) async for d in cursor]
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def last_seq(self, table_id: str) -> int:
        try:
            return await self._last_seq(table_id, None)
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def _last_seq(self, table_id: str, session: AsyncClientSession | None) -> int:
        document = await self._collection("log").find_one(
            {"table_id": table_id}, {"_id": 0, "seq": 1}, sort=[("seq", DESCENDING)], session=session
        )
        return 0 if document is None else int(document["seq"])

    # -- snapshots -------------------------------------------------------------------------------

    async def save_snapshot(self, table_id: str, seq: int, state: JSON) -> None:
        text = encode_json(state)
        try:
            if await self._collection("tables").find_one({"_id": table_id}, {"_id": 1}) is None:
                raise UnknownTable(f"no table {table_id!r} is stored")
            check_snapshot_seq(table_id, seq, await self._last_seq(table_id, None))
            # Conditional on the stored seq, in one single-document write: a snapshot landing late
            # (a deposed or slow writer) matches nothing, and its upsert collides with the newer one.
            await self._collection("snapshots").replace_one(
                {"_id": table_id, "seq": {"$lte": seq}},
                {"_id": table_id, "seq": seq, "state": text},
                upsert=True,
            )
        except DuplicateKeyError:
            return  # the stored snapshot is newer: keep it
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def load_snapshot(self, table_id: str) -> tuple[int, JSON] | None:
        try:
            document = await self._collection("snapshots").find_one({"_id": table_id})
        except PyMongoError as error:
            raise _unavailable(error) from error
        return None if document is None else (int(document["seq"]), decode_json(document["state"]))

    async def save_capture(self, table_id: str, seq: int, blob: bytes) -> None:
        # A capture can exceed MongoDB's 16 MB document limit: it is written as numbered chunks of
        # a new generation, then one head document switches to it (a single-document write, so a
        # crash before it leaves the previous generation in force), then the older chunks go.
        # Two writers never share a generation (each draws its own), and the head switch is
        # conditional on the stored seq, so the head's seq never goes down and a chunk of a lower
        # seq than the head's is never pointed to again: deleting those cannot break a reader.
        try:
            if await self._collection("tables").find_one({"_id": table_id}, {"_id": 1}) is None:
                raise UnknownTable(f"no table {table_id!r} is stored")
            data = check_capture(table_id, seq, blob, await self._last_seq(table_id, None))
            head = await self._collection("capture_heads").find_one({"_id": table_id})
            if head is not None and int(head["seq"]) > seq:
                return  # an older capture landing late (a slow writer) must not replace a newer one
            generation = f"{seq:020d}-{secrets.token_hex(8)}"
            chunks = [data[i : i + _CAPTURE_CHUNK] for i in range(0, len(data), _CAPTURE_CHUNK)] or [b""]
            parts = self._collection("capture_chunks")
            await parts.insert_many(
                [
                    {"table_id": table_id, "generation": generation, "seq": seq, "n": n, "data": chunk}
                    for n, chunk in enumerate(chunks)
                ]
            )
            try:
                await self._collection("capture_heads").replace_one(
                    {"_id": table_id, "seq": {"$lte": seq}},
                    {"_id": table_id, "seq": seq, "generation": generation, "chunks": len(chunks)},
                    upsert=True,
                )
            except DuplicateKeyError:
                # A newer capture switched the head first: ours is never read, so it goes.
                await parts.delete_many({"table_id": table_id, "generation": generation})
                return
            await parts.delete_many(
                {
                    "table_id": table_id,
                    # Chunks written before chunks carried their seq belong to an older head.
                    "$or": [{"seq": {"$lt": seq}}, {"seq": {"$exists": False}}],
                }
            )
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def load_capture(self, table_id: str) -> tuple[int, bytes] | None:
        try:
            head = await self._collection("capture_heads").find_one({"_id": table_id})
            if head is None:
                return None
            cursor = self._collection("capture_chunks").find(
                {"table_id": table_id, "generation": head["generation"]}, sort=[("n", ASCENDING)]
            )
            chunks = [bytes(document["data"]) async for document in cursor]
        except PyMongoError as error:
            raise _unavailable(error) from error
        if len(chunks) != int(head["chunks"]):
            raise StoreError(f"table {table_id!r}: the state capture is missing chunks")
        return int(head["seq"]), b"".join(chunks)

    # -- items -----------------------------------------------------------------------------------

    async def put_item(self, table_id: str, kind: str, key: str, value: JSON) -> None:
        text = encode_json(value)
        try:
            await self._collection("items").update_one(
                {"table_id": table_id, "kind": kind, "key": key}, {"$set": {"value": text}}, upsert=True
            )
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def get_item(self, table_id: str, kind: str, key: str) -> JSON | None:
        try:
            document = await self._collection("items").find_one(
                {"table_id": table_id, "kind": kind, "key": key}
            )
        except PyMongoError as error:
            raise _unavailable(error) from error
        return None if document is None else decode_json(document["value"])

    async def list_items(self, table_id: str, kind: str) -> list[tuple[str, JSON]]:
        cursor = self._collection("items").find({"table_id": table_id, "kind": kind}).sort("key", ASCENDING)
        try:
            return [(d["key"], decode_json(d["value"])) async for d in cursor]
        except PyMongoError as error:
            raise _unavailable(error) from error

    async def delete_item(self, table_id: str, kind: str, key: str) -> bool:
        try:
            result = await self._collection("items").delete_one(
                {"table_id": table_id, "kind": kind, "key": key}
            )
        except PyMongoError as error:
            raise _unavailable(error) from error
        return result.deleted_count > 0

    # -- leases ----------------------------------------------------------------------------------

    async def acquire_lease(self, table_id: str, holder: str, *, ttl: float, now: float) -> Lease | None:
        check_lease_args(holder, ttl)
        leases = self._collection("leases")
        expires_at = float(now + ttl)
        try:
            # Each step is one atomic conditional update; whichever matches decides the epoch.
            document = await leases.find_one_and_update(
                {"_id": table_id, "holder": holder, "expires_at": {"$gt": now}},
                {"$set": {"expires_at": expires_at}},
                return_document=ReturnDocument.AFTER,
            )
            if document is None:
                document = await leases.find_one_and_update(
                    {"_id": table_id, "expires_at": {"$lte": now}},
                    {"$set": {"holder": holder, "expires_at": expires_at}, "$inc": {"epoch": 1}},
                    return_document=ReturnDocument.AFTER,
                )
            if document is None:
                document = {"_id": table_id, "holder": holder, "epoch": 1, "expires_at": expires_at}
                await leases.insert_one(document)
        except DuplicateKeyError:
            return None  # a live lease of another holder (or a racing acquirer that won)
        except PyMongoError as error:
            raise _unavailable(error) from error
        return _lease(document)

    async def renew_lease(
        self, table_id: str, holder: str, epoch: int, *, ttl: float, now: float
    ) -> Lease | None:
        check_lease_args(holder, ttl)
        try:
            document = await self._collection("leases").find_one_and_update(
                {"_id": table_id, "holder": holder, "epoch": epoch},
                {"$set": {"expires_at": float(now + ttl)}},
                return_document=ReturnDocument.AFTER,
            )
        except PyMongoError as error:
            raise _unavailable(error) from error
        return None if document is None else _lease(document)

    async def release_lease(self, table_id: str, holder: str, epoch: int) -> bool:
        try:
            result = await self._collection("leases").update_one(
                {"_id": table_id, "holder": holder, "epoch": epoch}, {"$set": {"expires_at": RELEASED}}
            )
        except PyMongoError as error:
            raise _unavailable(error) from error
        return result.matched_count > 0

    async def get_lease(self, table_id: str) -> Lease | None:
        try:
            document = await self._collection("leases").find_one({"_id": table_id})
        except PyMongoError as error:
            raise _unavailable(error) from error
        return None if document is None else _lease(document)


def _lease(document: Mapping[str, Any]) -> Lease:
    return Lease(document["_id"], document["holder"], int(document["epoch"]), document["expires_at"])


def supports_transactions(hello: Mapping[str, Any]) -> bool:
    """Whether a server's ``hello`` reply describes a replica set member or a mongos with sessions."""
    replica_set_or_sharded = "setName" in hello or hello.get("msg") == "isdbgrid"
    return replica_set_or_sharded and "logicalSessionTimeoutMinutes" in hello


def _table_record(document: Mapping[str, Any]) -> TableRecord:
    return TableRecord(
        document["_id"],
        decode_json(document["definition"]),
        document["status"],
        document["created_at"],
        document["updated_at"],
    )


def _unavailable(error: PyMongoError) -> StoreError:
    if isinstance(error, BulkWriteError | DuplicateKeyError) and _duplicate(error):
        return StoreConflict(f"MongoDB refused a duplicate (another writer got there first): {error}")
    return StoreError(f"MongoDB: {error}")


def _duplicate(error: PyMongoError) -> bool:
    if isinstance(error, DuplicateKeyError):
        return True
    details = getattr(error, "details", None) or {}
    return any(e.get("code") == _DUPLICATE_KEY for e in details.get("writeErrors", []))
