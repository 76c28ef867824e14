"""A loopback proxy that lets ``redshift_connector`` talk to PostgreSQL.

The driver opens every session with startup parameters that only Redshift knows
(``client_protocol_version``, ``driver_version``, ``os_version``, ``plugin_name``…);
PostgreSQL refuses unknown ones with FATAL 42704. The proxy drops those keys from the
startup packet and then relays bytes both ways unchanged, so the adapter runs its real
driver, error classes and paramstyle against the tests' server. ``drop_all()`` closes every
relayed connection at once, ``reset_all()`` aborts them with a TCP reset.
"""

import contextlib
import socket
import struct
import threading

POSTGRES_KEYS = {b"user", b"database", b"application_name", b"replication", b"options"}


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed during startup")
        data += chunk
    return data


def _startup(client: socket.socket) -> bytes:
    """Read the client's startup packet; return it with only PostgreSQL's keys."""
    length = struct.unpack("!i", _read_exactly(client, 4))[0]
    body = _read_exactly(client, length - 4)
    version, pairs = body[:4], body[4:].split(b"\x00")
    kept = b""
    for key, value in zip(pairs[0::2], pairs[1::2], strict=False):
        if key in POSTGRES_KEYS:
            kept += key + b"\x00" + value + b"\x00"
    payload = version + kept + b"\x00"
    return struct.pack("!i", len(payload) + 4) + payload


class RedshiftWire:
    """Listens on a free loopback port and relays to ``host:port`` (a PostgreSQL server)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._resetting: set[socket.socket] = set()
        self._guard = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self._target)
            server.sendall(_startup(client))
        except OSError:
            client.close()
            return
        with self._guard:
            self._open |= {client, server}
        threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
        threading.Thread(target=self._greet, args=(server, client), daemon=True).start()

    def _greet(self, server: socket.socket, client: socket.socket) -> None:
        """Relay the server's messages up to its first ReadyForQuery, with ``server_version``
        reduced to its number (the driver parses it as a version: "15.4 (Debian…)" fails)."""
        with contextlib.suppress(OSError, ConnectionError):
            kind = b""
            while kind != b"Z":
                kind = _read_exactly(server, 1)
                length = _read_exactly(server, 4)
                body = _read_exactly(server, struct.unpack("!i", length)[0] - 4)
                if kind == b"S" and body.startswith(b"server_version\x00"):
                    number = body.split(b"\x00")[1].split()[0]
                    body = b"server_version\x00" + number + b"\x00"
                    length = struct.pack("!i", len(body) + 4)
                client.sendall(kind + length + body)
        self._pipe(server, client)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                if sock in self._resetting:
                    sock.close()
                else:
                    sock.shutdown(socket.SHUT_RDWR)

    def drop_all(self) -> None:
        """Cut every relayed connection (both ends see the socket close)."""
        with self._guard:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def reset_all(self) -> None:
        """Abort every relayed connection with a TCP reset: a peer that vanished
        mid-conversation, as the driver sees it (ConnectionResetError, EPIPE). Each socket
        is set to linger 0 and its reader woken; the relay threads then close it, which
        sends the reset once no thread holds it any more."""
        with self._guard:
            sockets, self._open = self._open, set()
            self._resetting |= sockets
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RD)

    def close(self) -> None:
        self.drop_all()
        self._listener.close()
