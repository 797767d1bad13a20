"""A CSMS that accepts the websocket upgrade and then goes silent: it never reads, answers or closes, like a peer
behind a network that dropped without a FIN. The station's reader thread then blocks in websocket-client's
receive while holding its frame lock, which is what makes a careless close or stop hang."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _upgrade(connection: socket.socket) -> None:
    """Read the HTTP upgrade request and accept it with the ocpp2.0.1 subprotocol."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = connection.recv(4096)
        if not chunk:
            return
        request += chunk
    headers = dict(line.split(":", 1) for line in request.decode("latin-1").split("\r\n")[1:] if ":" in line)
    key = next(value.strip() for name, value in headers.items() if name.strip().lower() == "sec-websocket-key")
    accept = base64.b64encode(hashlib.sha1((key + _GUID).encode("ascii")).digest()).decode("ascii")
    connection.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n"
        ).encode("ascii")
    )


@contextmanager
def half_open_csms(upgrade: bool = True) -> Iterator[tuple[str, threading.Event]]:
    """Yields the CSMS URL and an event set once a station has connected (and, with `upgrade`, its websocket
    upgrade was accepted; without, the station is left waiting for the answer to its upgrade). Every socket is
    kept open, unread, until the context ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    upgraded = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        with suppress(OSError):
            while True:
                connection, _ = listener.accept()
                held.append(connection)
                if upgrade:
                    _upgrade(connection)
                upgraded.set()

    thread = threading.Thread(target=serve, daemon=True, name="half-open-csms")
    thread.start()
    try:
        yield f"ws://127.0.0.1:{listener.getsockname()[1]}", upgraded
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        listener.close()
        for connection in held:
            connection.close()
        thread.join(5)
