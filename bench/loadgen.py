"""A small HTTP load generator for the server benchmarks: pre-built requests, each sent
exactly once, by `concurrency` client processes (one connection at a time each).

A request is anything with `path` (query string included), `headers` and `body`, and
optionally `method` (default POST) and `sign` (fresh headers per send): the webhooks'
signed POSTs, or `Request("/p/accounts/", {"Cookie": ...}, method="GET")`.

Processes, not threads, so the client is not one GIL-bound core against the server;
raw sockets with the bytes rendered beforehand, so a request costs the client a
connect, a send and a read (tens of µs), not an HTTP library's work. Each request is
`Connection: close` — gunicorn's sync workers close after every response anyway.
"""

import functools
import multiprocessing
import socket
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Request:
    path: str  # with its query string
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    method: str = "GET"


def render(request, *, host, path=None):
    """The request as bytes on the wire; `path` replaces its path (the query stays).
    A request with a `sign` function is rendered by the client just before it is sent
    (a callable here), so its signature is fresh."""
    if getattr(request, "sign", None) is not None:
        return functools.partial(_render, request, host=host, path=path, fresh=True)
    return _render(request, host=host, path=path)


def _render(request, *, host, path, fresh=False):
    headers = request.sign() if fresh else request.headers
    target = request.path
    if path is not None:
        query = request.path.partition("?")[2]
        target = f"{path}?{query}" if query else path
    method = getattr(request, "method", "POST")
    head = [
        f"{method} {target} HTTP/1.1",
        f"Host: {host}",
        *([f"Content-Length: {len(request.body)}"] if request.body or method != "GET" else []),
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + request.body


def _send(address, raw):
    with socket.create_connection(address) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    status = int(response[9:12]) if response.startswith(b"HTTP/1.") else 0
    return status, response


def _client(address, raws, start, out):
    results, failures = [], []
    start.wait()
    for raw in raws:
        raw = raw() if callable(raw) else raw
        t = time.monotonic()
        try:
            status, response = _send(address, raw)
        except OSError as exc:
            status, response = 0, str(exc).encode()
        results.append((status, time.monotonic() - t))
        if not 200 <= status < 300 and len(failures) < 3:
            failures.append(response[:600])
    out.send((time.monotonic(), results, failures))
    out.close()


@dataclass
class Load:
    seconds: float
    latencies: list
    statuses: Counter
    failures: list  # a few non-2xx responses, for the report
    answered: float = 0.0  # seconds until the last answer (`seconds` may run on: `until`)

    @property
    def rate(self):
        return len(self.latencies) / self.seconds

    def percentile(self, p):
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    @property
    def non_2xx(self):
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def summary(self):
        return (
            f"{self.rate:,.0f} req/s, p50 {self.percentile(50) * 1000:.1f} ms, "
            f"p99 {self.percentile(99) * 1000:.1f} ms, mean "
            f"{statistics.fmean(self.latencies) * 1000:.1f} ms, non-2xx {self.non_2xx}"
        )


def fire(raws, *, address, concurrency, until=None, timeout=600):
    """Send every request once, `concurrency` at a time; the clock runs from the moment
    all clients are ready until the last answer, or, with `until`, until that returns
    true (polled from the first request on: work the requests left to a worker)."""
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    pipes, procs = [], []
    for i in range(concurrency):
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_client, args=(address, raws[i::concurrency], start, send))
        proc.start()
        send.close()
        pipes.append(receive)
        procs.append(proc)
    time.sleep(0.2)  # let every client reach the start line
    began = time.monotonic()
    start.set()
    ended, latencies, statuses, failures = began, [], Counter(), []
    for receive in pipes:
        finished, results, some = receive.recv()
        ended = max(ended, finished)
        latencies += [seconds for _status, seconds in results]
        statuses.update(status for status, _seconds in results)
        failures += some
    for proc in procs:
        proc.join()
    answered = ended - began
    if until is not None:
        while not until():
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"the work was not done {timeout} s after the first request")
            time.sleep(0.01)
        ended = time.monotonic()
    return Load(ended - began, latencies, statuses, failures, answered)
