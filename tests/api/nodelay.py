"""httpx transports with TCP_NODELAY, for the API tests (opxtest) and the
money benchmark's driver (bench/money_flows.py). httpx and the standard
library only.

Debian's httpx 0.23 / httpcore 0.16 do not set TCP_NODELAY, and send a
request's head and body in two writes: with Nagle's algorithm the body then
waits for the ACK of the head, which the server's kernel delays (~40 ms),
so every POST with a body would take 40+ ms. Browsers and curl set it."""
import socket

import httpx


class _NoDelayBackend:
    """Wraps httpcore's network backend: TCP_NODELAY on every connection."""

    def __init__(self, inner):
        self._inner = inner

    def connect_tcp(self, *a, **kw):
        stream = self._inner.connect_tcp(*a, **kw)
        stream.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return stream

    def __getattr__(self, name):
        return getattr(self._inner, name)


def nodelay_transport():
    """An httpx.HTTPTransport whose sockets have TCP_NODELAY."""
    opt = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    try:
        return httpx.HTTPTransport(socket_options=opt)  # httpx >= 0.24
    except TypeError:
        transport = httpx.HTTPTransport()
        pool = transport._pool  # httpcore.ConnectionPool
        pool._network_backend = _NoDelayBackend(pool._network_backend)
        return transport
