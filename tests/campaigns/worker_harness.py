"""A real Celery worker on Redis against the test database, and fake Twilio and Postmark
servers in the test process that count every provider call per outbox message and can
kill the worker at a chosen point of a send (tests/campaigns/test_worker_kill.py).

The worker runs our code unchanged. Twilio is reached at its real host, through an
HTTPS proxy (the worker's `https_proxy`) that terminates TLS with a throwaway CA the
worker trusts (`REQUESTS_CA_BUNDLE`); Postmark through anymail's `POSTMARK_API_URL`.
Both answer in the providers' real JSON. The kill points are made from outside:
  before  a send request arrives and the worker is killed before the provider has read
          it: the batch is claimed (`sending`) and the provider never accepted the call;
  during  the fake receives the whole request, then kills the worker without answering;
  after   the fake locks the message row (from the owner role), answers, and kills the
          worker once it waits on that row to record the answer.
"""

import base64
import json
import os
import secrets
import signal
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import environ
import psycopg2
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.campaigns.twilio_fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC,
    SERVICE_SID,
    error_json,
    list_json,
    message_json,
    new_sid,
)

ROOT = Path(__file__).resolve().parents[2]
POSTMARK_TOKEN = "postmark-server-token-test"
TWILIO_HOST = "api.twilio.com"
WAIT = 60  # seconds (at most): a worker starting, tasks finishing, a lock being waited on


def wait_for(what, check, timeout=WAIT, explain=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}. {explain()}")


# --- the database as its owner (outside RLS), for locks and for reading state -----


def owner_connect():
    """A connection to the test database as the owner role (the suite's own connection
    is the application role, under RLS)."""
    owner = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(
        host=owner["HOST"] or "127.0.0.1",
        port=owner["PORT"] or 5432,
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        dbname=connection.settings_dict["NAME"],
    )
    return conn


def backends_waiting_on_locks(conn):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cur.fetchone()[0]


def message_statuses(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id, status FROM campaigns_message ORDER BY id")
        return dict(cur.fetchall())


# --- TLS for the Twilio proxy ---------------------------------------------------------


def tls_files(directory):
    """A throwaway CA and a certificate for api.twilio.com signed by it: (ca, cert, key)
    paths. Valid for decades: OpenSSL checks them against the real clock."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def usage(**flags):
        names = ("digital_signature content_commitment key_encipherment data_encipherment "
                 "key_agreement key_cert_sign crl_sign encipher_only decipher_only")  # fmt: skip
        names = names.split()
        return x509.KeyUsage(**{n: flags.get(n, False) for n in names})

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_name = name("Recovery test CA")
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(name(TWILIO_HOST)).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(TWILIO_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return paths


# --- the fake providers ---------------------------------------------------------------


class FakeProviders:
    """Twilio (through the proxy) and Postmark on one local port. `calls` counts the
    provider calls that reached it, by (channel, our message id); `kill` is set by the
    test to ("before" | "during" | "after", n): where to kill the worker at the n-th
    send call (once)."""

    def __init__(self, directory):
        self.calls = Counter()
        self.texts = []  # what Twilio holds: the texts it created, for its list API
        self.kill = None
        self.worker = None
        self.lock = threading.Lock()
        self.ca, cert, key = tls_files(directory)
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def next_is_killed_before(self):
        """Called as a send request arrives, before it is read: True (and the worker
        killed) when the plan is to kill before this call reaches the provider."""
        with self.lock:
            nth = sum(self.calls.values()) + 1
        if self.kill == ("before", nth):
            self.kill = None  # once: the next worker sends undisturbed
            self.worker.kill()
            return True
        return False

    def send_received(self, channel, message_id, answer):
        """Count the call; then answer, or kill the worker at the planned point."""
        with self.lock:
            self.calls[(channel, message_id)] += 1
            nth = sum(self.calls.values())
        point = self.kill[0] if self.kill and self.kill[1] == nth else None
        if point:
            self.kill = None
        if point == "during":
            self.worker.kill()  # the request arrived whole; no answer ever leaves
        elif point == "after":
            pg = owner_connect()
            with pg.cursor() as cur:
                cur.execute("SELECT 1 FROM campaigns_message WHERE id = %s FOR UPDATE",
                            [message_id])  # fmt: skip
            answer()
            # The worker may make further calls before it records: keep serving them.
            threading.Thread(target=self._kill_when_recording, args=[pg], daemon=True).start()
        else:
            answer()

    def _kill_when_recording(self, pg):
        try:
            wait_for("the worker to wait on the message row to record it",
                     lambda: backends_waiting_on_locks(pg))  # fmt: skip
            self.worker.kill()
        finally:
            pg.rollback()
            pg.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002  (quiet: the test says what failed)
        pass

    @property
    def fake(self):
        return self.server.fake

    def do_CONNECT(self):
        if self.path != f"{TWILIO_HOST}:443":
            self.send_error(403)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.connection = self.fake.tls.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = socketserver._SocketWriter(self.connection)
        self.close_connection = False

    def _json(self, status, data):
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _twilio_authorized(self):
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if self.headers.get("Authorization") == f"Basic {expected}":
            return True
        self._json(401, error_json(20003, "Authenticate", 401))
        return False

    def do_POST(self):
        path = urlsplit(self.path).path
        if self.fake.next_is_killed_before():
            self.close_connection = True
            return
        body = self._body()
        if path == "/email":
            self._postmark_send(json.loads(body))
        elif path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            if self._twilio_authorized():
                self._twilio_create({k: v[0] for k, v in parse_qs(body.decode()).items()})
        else:
            self._json(404, {"message": "not found"})

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            self._json(404, {"message": "not found"})
        elif self._twilio_authorized():
            to = parse_qs(url.query)["To"][0]
            with self.fake.lock:
                found = [m for m in reversed(self.fake.texts) if m["to"] == to]
            # By now the texts it holds have gone out to the carrier.
            self._json(200, list_json([message_json(sid=m["sid"], to=to, status="delivered",
                                                    created=m["created"], sent=m["created"],
                                                    body=m["body"])
                                       for m in found], to))  # fmt: skip

    def _twilio_create(self, form):
        message_id = int(parse_qs(urlsplit(form["StatusCallback"]).query)["m"][0])
        text = {"sid": new_sid(), "to": form["To"], "body": form["Body"],
                "created": timezone.now().replace(microsecond=0)}  # fmt: skip
        with self.fake.lock:
            # Created as soon as the request is in, answered or not (the worst case for a
            # resend: a worker killed during the call left a text that did go out).
            self.fake.texts.append(text)

        def answer():
            self._json(201, message_json(sid=text["sid"], to=text["to"], body=text["body"],
                                         created=text["created"]))  # fmt: skip

        self.fake.send_received("sms", message_id, answer)

    def _postmark_send(self, payload):
        if self.headers.get("X-Postmark-Server-Token") != POSTMARK_TOKEN:
            self._json(401, {"ErrorCode": 10, "Message": "No Account or Server API tokens"})
            return
        message_id = int(payload["Metadata"]["message_id"])

        def answer():
            self._json(200, {"To": payload["To"], "SubmittedAt": timezone.now().isoformat(),
                             "MessageID": str(uuid.uuid4()), "ErrorCode": 0,
                             "Message": "OK"})  # fmt: skip

        self.fake.send_received("email", message_id, answer)


def broker_forget(broker_url, queue):
    """Drop what the killed workers left unacknowledged for `queue` (kombu keeps it in
    the Redis hash `unacked` until its visibility timeout), and the queue itself, so
    nothing of this test is ever redelivered."""
    client = redis.Redis.from_url(broker_url)
    for tag, raw in client.hscan_iter("unacked"):
        if json.loads(raw)[2] == queue:  # [message, exchange, routing key]
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


# --- the worker -----------------------------------------------------------------------


class Worker:
    """`celery -A recovery worker --pool prefork -c 1` on its own queue, in its own
    process group, its clock starting at `clock` (tests/campaigns/worker_clock.py)."""

    def __init__(self, *, fake, broker_url, queue, clock, log):
        db = connection.settings_dict  # the test database, as the application role
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "recovery.settings",
            "RECOVERY_TESTING": "1",
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{quote(db['PASSWORD'] or '', safe='')}"
                f"@{db['HOST'] or '127.0.0.1'}"
                f":{db['PORT'] or 5432}/{db['NAME']}"
            ),  # fmt: skip
            "REDIS_URL": broker_url,
            "WORKER_CLOCK_START": clock.isoformat(),
            # The test process's keys: the worker decrypts and signs what the test wrote.
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
            "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
            "ANYMAIL": json.dumps(
                {"POSTMARK_SERVER_TOKEN": POSTMARK_TOKEN, "POSTMARK_API_URL": fake.url + "/"}
            ),  # fmt: skip
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
            "PUBLIC_BASE_URL": PUBLIC,
            "REQUESTS_CA_BUNDLE": str(fake.ca),
        }
        for name in ("https_proxy", "HTTPS_PROXY"):
            env[name] = fake.url
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(name, None)
        for name in ("no_proxy", "NO_PROXY"):
            env[name] = "127.0.0.1,localhost"
        self.log = log
        self.name = f"{queue}-{secrets.token_hex(3)}"
        command = [sys.executable, "-m", "tests.campaigns.worker_clock", "-A", "recovery",
                   "worker", "--pool", "prefork", "-c", "1", "-Q", queue, "-n",
                   f"{self.name}@%h", "-l", "info", "--without-heartbeat", "--without-gossip",
                   "--without-mingle"]  # fmt: skip
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                            stderr=subprocess.STDOUT,
                                            start_new_session=True)  # fmt: skip

    def wait_ready(self):
        wait_for(f"worker {self.name} to be ready", self._ready, explain=self.tail)

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited ({self.process.returncode}). {self.tail()}")
        return f"{self.name}@" in self.text() and " ready." in self.text()

    def text(self):
        return self.log.read_text(errors="replace")

    def tail(self):
        return "Worker log:\n" + "\n".join(self.text().splitlines()[-40:])

    def succeeded(self, task):
        """How many runs of `task` finished (Celery logs each one)."""
        lines = self.text().splitlines()
        return sum(1 for line in lines if f"Task {task}[" in line and " succeeded in " in line)

    def kill(self):
        """SIGKILL the whole worker: the main process and its pool child."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # already gone
        self.process.wait(timeout=WAIT)
