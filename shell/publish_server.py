"""The local controller's read-only file server over its published folder (L03).

Its own module so that `firmware_publish` imports it on the first publication only: http.server and the tools'
file server would otherwise cost every station's start-up for a role few stations play.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

from chargecore.tools.file_server import FileServer, FilesHandler


class _ReadOnlyHandler(FilesHandler):
    """The stations behind the controller download; nobody uploads into the published folder."""

    def do_PUT(self) -> None:
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

    def do_POST(self) -> None:
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)


def serve_published(directory: Path, host: str, port: int, announce: Callable[[str], None]) -> FileServer:
    """A started read-only server over `directory`; OSError when the address cannot be bound."""
    return FileServer(directory, host, port, announce=announce, handler=_ReadOnlyHandler).start()
