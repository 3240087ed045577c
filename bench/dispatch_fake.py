"""The dispatch benchmark's fake providers: one local HTTP server (its own process,
threaded, HTTP/1.1 keep-alive) answering Twilio's Messages API and Postmark's send API
in their real JSON formats, counting every call per (channel, our message id) so the
bench can check that nothing was sent twice.

    POST /2010-04-01/Accounts/<sid>/Messages.json   (form; our id in StatusCallback ?m=)
    POST /email                                     (JSON; our id in Metadata.message_id)
    GET  /counts                                    {"sms": {id: n}, "email": {id: n}}
"""

import json
import socket
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs

    def setup(self):
        super().setup()
        # One segment per answer, sent at once (no Nagle wait behind the client's
        # delayed ACK, which would add ~40 ms to every call on a kept-alive connection).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def _answer(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _count(self, channel, key):
        with self.server.lock:
            self.server.counts[channel][key] += 1

    def do_GET(self):  # noqa: N802
        with self.server.lock:
            counts = {c: dict(n) for c, n in self.server.counts.items()}
        self._answer(200, counts)

    def do_POST(self):  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        if path.endswith("/Messages.json"):
            return self._twilio(path, parse_qs(raw.decode()))
        if path.rstrip("/").endswith("/email"):
            return self._postmark(json.loads(raw))
        self._answer(404, {"message": f"no fake for {path}"})

    def _twilio(self, path, form):
        account = path.split("/")[3]
        callback = form.get("StatusCallback", [""])[0]
        key = parse_qs(urlsplit(callback).query).get("m", [""])[0]
        self._count("sms", key)
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{account}/Messages/{sid}"
        self._answer(201, {
            "account_sid": account, "api_version": "2010-04-01",
            "body": form.get("Body", [""])[0], "date_created": now, "date_sent": None,
            "date_updated": now, "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": None,
            "messaging_service_sid": form.get("MessagingServiceSid", [None])[0],
            "num_media": "0", "num_segments": "1", "price": None, "price_unit": None,
            "sid": sid, "status": "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form.get("To", [""])[0], "uri": f"{uri}.json",
        })  # fmt: skip

    def _postmark(self, payload):
        key = str((payload.get("Metadata") or {}).get("message_id", ""))
        self._count("email", key)
        self._answer(200, {
            "To": payload.get("To", ""), "SubmittedAt": datetime.now(UTC).isoformat(),
            "MessageID": str(uuid.uuid4()), "ErrorCode": 0, "Message": "OK",
        })  # fmt: skip


def serve(port_queue):
    """Run the fake on a free local port (sent back through `port_queue`) until killed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    server.lock = threading.Lock()
    server.counts = {"sms": Counter(), "email": Counter()}
    port_queue.put(server.server_address[1])
    server.serve_forever()
