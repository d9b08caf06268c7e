"""The composition root: ``create_app(settings, store=...)`` builds the whole server as one ASGI app.

FastAPI (REST, OpenAPI at /docs, pages) and python-socketio (``/socket.io/``) share one uvicorn
process. Nothing here reads the environment or connects at import time; the store is opened and
live tables are recovered in the lifespan startup.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import socketio
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from crowdfill import __version__
from crowdfill.server.api import requester_router
from crowdfill.server.assistants import AssistantRunner
from crowdfill.server.cluster_node import cluster_for, socket_manager
from crowdfill.server.docs_page import mount_docs
from crowdfill.server.draft_delete import draft_delete_router
from crowdfill.server.engine_guard import EngineGuard
from crowdfill.server.exclusion_api import reputation_router
from crowdfill.server.file_exports import file_exports_router
from crowdfill.server.gold_api import gold_router
from crowdfill.server.http import BodyLimit, install_error_handlers
from crowdfill.server.idle import IdleUnloader
from crowdfill.server.pages import mount_static, page_router
from crowdfill.server.public import public_router
from crowdfill.server.recruit import RecruitSigner
from crowdfill.server.recruit_api import recruit_router
from crowdfill.server.reputation_service import ReputationService
from crowdfill.server.roster import Roster
from crowdfill.server.row_history import row_history_router
from crowdfill.server.screening_api import screening_router
from crowdfill.server.services import Services
from crowdfill.server.settings import Settings
from crowdfill.server.sockets import SocketApp
from crowdfill.server.table_copies import table_copies_router
from crowdfill.server.tables import Tables
from crowdfill.server.tokens import TokenSigner
from crowdfill.server.webhook_events import WebhookEvents
from crowdfill.server.webhooks_api import webhooks_router
from crowdfill.store import Store, open_store
from crowdfill.webhooks import Dispatcher, Hooks, Outbox, RetryPolicy

logger = logging.getLogger(__name__)


class CrowdFillApp:
    """The ASGI application, with its parts reachable for the CLI and tests."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.sockets = SocketApp(settings, client_manager=socket_manager(settings))
        self.hooks = Hooks(store)
        self.outbox = Outbox(store, self.hooks)
        self.webhook_events = WebhookEvents(self.sockets.fanout, store, self.hooks, self.outbox)
        self.dispatcher = Dispatcher(store, self.hooks, _retry_policy(settings))
        self.outbox.scheduler = self.dispatcher
        # Models in the loop see each published batch after the webhooks and the fan-out.
        self.assistants = AssistantRunner(self.webhook_events)
        # Several processes (--redis-url): this one leads some tables and follows the others.
        self.cluster = cluster_for(settings, store, self.sockets)
        listener = self.assistants if self.cluster is None else self.cluster.listener(self.assistants)
        self.tables = Tables(store, settings, listener)
        self.tables.forwarder = self.sockets.fanout
        self.tables.cluster = self.cluster
        self.tables.model_status = self.assistants.status
        self.reputation = ReputationService(self.sockets)
        self.tables.attach = self.reputation.attach
        self.tables.reputation_rows = self.reputation.rows
        self.roster = Roster(self.tables, TokenSigner(settings.secret), RecruitSigner(settings.secret))
        self.tables.events = self.roster.events = self.webhook_events
        self.sockets.bind(self.tables, self.roster)
        self.services = Services(settings, self.tables, self.roster, self.sockets)
        self.idle = IdleUnloader(self.tables, self.sockets.presence, settings.idle_unload_seconds)
        self.api = FastAPI(
            title="CrowdFill",
            version=__version__,
            description="Requester REST API. Workers and the monitor use Socket.IO: see docs/protocol.md.",
            lifespan=self._lifespan,
            docs_url=None,  # mount_docs serves /docs on local assets (FastAPI's loads a CDN)
            redoc_url=None,  # the same CDN problem, and /docs covers it
        )
        install_error_handlers(self.api)
        mount_docs(self.api, "CrowdFill")
        self.api.include_router(public_router(self.services))
        self.api.include_router(requester_router(self.services))
        self.api.include_router(recruit_router(self.services))
        self.api.include_router(webhooks_router(self.services, self.hooks, self.outbox))
        self.api.include_router(table_copies_router(self.services))
        self.api.include_router(file_exports_router(self.services))
        self.api.include_router(draft_delete_router(self.services))
        self.api.include_router(row_history_router(self.services))
        self.api.include_router(gold_router(self.services))
        self.api.include_router(screening_router(self.services))
        self.api.include_router(reputation_router(self.services, self.reputation))
        self.api.include_router(page_router(settings.web_dir))
        mount_static(self.api, settings.web_dir)
        self._asgi = EngineGuard(
            socketio.ASGIApp(
                self.sockets.sio, other_asgi_app=BodyLimit(self.api, settings.max_payload_bytes)
            ),
            limit=self.sockets.sio.eio.max_http_buffer_size,
        )
        self.ready = False

    @asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        await self.store.open()
        try:
            if self.cluster is not None:
                await self.cluster.start(self.tables)
            gc.collect()  # before the tables: what is frozen once they are up is then all alive
            recovered = await self.tables.recover()
            self.assistants.resume(self.tables.live_owners())  # rows the models had not answered
            if recovered:
                logger.info("recovered %d live table(s) from storage", recovered)
            await self.hooks.load([record.table_id for record in await self.store.list_tables()])
            await self.dispatcher.start()
            self.sockets.start()
            self.idle.start()
            self.ready = True
            yield
        finally:
            self.ready = False
            await self.dispatcher.stop()
            await self.sockets.stop()
            await self.assistants.stop()
            await self.reputation.stop()
            await self.idle.stop()
            await self.tables.shutdown(self.settings.shutdown_capture_seconds)
            if self.cluster is not None:
                await self.cluster.stop()
            await self.store.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)


def _retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        first_delay=settings.webhook_retry_seconds,
        cap=settings.webhook_retry_cap_seconds,
        max_attempts=settings.webhook_max_attempts,
        timeout=settings.webhook_timeout_seconds,
    )


def create_app(settings: Settings, store: Store | None = None) -> CrowdFillApp:
    """The server for ``settings``; ``store`` defaults to the one ``settings.store_url`` names."""
    chosen = store if store is not None else open_store(settings.store_url, settings.data_dir)
    return CrowdFillApp(settings, chosen)
