"""A TCP proxy the browser tests own, to take the network away under an open WebSocket.

Chromium keeps an open WebSocket alive through `context.set_offline(True)` and through
CDP's offline emulation, so neither proves anything about reconnection. A page that
reaches the server through this proxy loses its connections for real when the test
calls `cut()`: every proxied connection is reset (the page sees close code 1006, as
after a real network loss) and new ones are refused until `restore()`.

The proxy runs its own asyncio event loop in a background thread, so it neither needs
nor disturbs an event loop in the test's thread:

    with TcpProxy(8000) as proxy:          # forwards 127.0.0.1:<proxy.port> -> :8000
        page.goto(proxy.url + "/chats")
        proxy.cut()
        ...
        proxy.restore()

`stall()` makes it a black hole instead, as a phone between cells meets one: every
connection stays open but nothing is forwarded either way, and new connections are
accepted and held. `resume()` lets everything through again (what was held too);
`reroute()` lets new connections through while the stalled ones stay stalled, as when a
phone comes back on another network and its old connections are dead for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading

HOST = "127.0.0.1"
CHUNK = 64 * 1024
CALL_TIMEOUT = 10.0


def _reset_on_close(writer: asyncio.StreamWriter) -> None:
    """Make closing send RST (SO_LINGER 0) rather than a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class TcpProxy:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<target_port>; can cut and restore."""

    def __init__(self, target_port: int, *, target_host: str = HOST) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.connections_total = 0  # accepted while up, over the proxy's life
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._started = False
        self._flowing = asyncio.Event()  # cleared while stalled
        self._flowing.set()

    # -- the test's side (any thread) ------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._server is None

    @property
    def open_connections(self) -> int:
        return len(self._pairs)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._started = True
        self._call(self._listen())
        return self

    def cut(self) -> int:
        """Stop listening (new connections are refused) and reset every open one.
        Returns how many proxied connections were cut."""
        return self._call(self._cut())

    def restore(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen())

    def stall(self) -> None:
        """Forward nothing more, either way, and hold new connections; close nothing."""
        self._call(self._set_flowing(False))

    def resume(self) -> None:
        """Forward again, what was held first."""
        self._call(self._set_flowing(True))

    def reroute(self) -> None:
        """Forward new connections; the stalled ones stay stalled."""
        self._call(self._new_route())

    def close(self) -> None:
        if not self._started:
            return
        self._started = False
        with contextlib.suppress(Exception):
            self._call(self._cut())
            self._call(self._drain())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT)

    # -- the proxy's own loop --------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        # Let the piping tasks see their cancellation before the loop closes.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    async def _set_flowing(self, flowing: bool) -> None:
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _new_route(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._handle, HOST, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> int:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            # Do not await wait_closed(): since Python 3.12 it waits for the handlers,
            # which are the very connections about to be reset below.
        pairs = list(self._pairs)
        self._pairs.clear()
        for client, upstream in pairs:
            for writer in (client, upstream):
                _reset_on_close(writer)
                writer.transport.abort()
        return len(pairs)

    async def _drain(self) -> None:
        """Give the handlers of reset connections a moment to finish by themselves."""
        current = asyncio.current_task()
        handlers = [task for task in asyncio.all_tasks() if task is not current]
        if handlers:
            await asyncio.wait(handlers, timeout=2)

    async def _handle(self, client_reader, client_writer) -> None:
        try:
            await self._forward(client_reader, client_writer)
        except asyncio.CancelledError:
            # Only when the proxy closes with connections still open: nothing to report.
            client_writer.transport.abort()

    async def _forward(self, client_reader, client_writer) -> None:
        if self._server is None:  # accepted just before the cut
            _reset_on_close(client_writer)
            client_writer.transport.abort()
            return
        flowing = self._flowing  # this connection's route
        await flowing.wait()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            # The server is down: the page sees a reset, as it would without the proxy.
            _reset_on_close(client_writer)
            client_writer.transport.abort()
            return
        self.connections_total += 1
        pair = (client_writer, upstream_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream_writer, flowing),
                self._pipe(upstream_reader, client_writer, flowing),
            )
        finally:
            self._pairs.discard(pair)
            for writer in pair:
                writer.transport.abort()

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event
    ) -> None:
        try:
            while data := await reader.read(CHUNK):
                await flowing.wait()
                writer.write(data)
                await writer.drain()
            # A polite end of stream on one side is passed on as one (a stall holds it).
            await flowing.wait()
            if writer.can_write_eof() and not writer.is_closing():
                writer.write_eof()
        except (ConnectionError, OSError):
            await flowing.wait()
            writer.transport.abort()
