"""The server's parts wired together, as the HTTP routes see them."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from crowdfill.server.roster import Roster
from crowdfill.server.settings import Settings
from crowdfill.server.sockets import SocketApp
from crowdfill.server.tables import Tables


@dataclass(frozen=True)
class Services:
    settings: Settings
    tables: Tables
    roster: Roster
    sockets: SocketApp

    def base_url(self, request: Request) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")
