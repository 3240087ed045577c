"""Settings for `python -m bench dispatch` (its workers and its baseline): the product's
own settings, with both providers pointed at the bench's local fake (BENCH_FAKE_URL) —
Twilio's Messages API through the SDK's own base URL, email through anymail's Postmark
backend — and send budgets high enough never to bind (the Redis round trip still runs).
Bench only."""

import os

from bench import dispatch as bench_dispatch
from recovery.settings import *  # noqa: F403

EMAIL_BACKEND = bench_dispatch.EMAIL_BACKEND
TWILIO_ACCOUNT_SID = bench_dispatch.TWILIO_ACCOUNT_SID
TWILIO_AUTH_TOKEN = bench_dispatch.TWILIO_AUTH_TOKEN
TWILIO_MESSAGING_SERVICE_SID = bench_dispatch.TWILIO_MESSAGING_SERVICE_SID
FAKE_URL = os.environ.get("BENCH_FAKE_URL", "http://127.0.0.1:9")
ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": bench_dispatch.POSTMARK_SERVER_TOKEN,
    "POSTMARK_API_URL": f"{FAKE_URL}/",
}
TWILIO_API_BASE_URL = FAKE_URL
RATE_LIMITS = {
    "email": "1000000/s",
    "sms": "1000000/s",
    "platform": {"email": "1000000/s", "sms": "1000000/s"},
}
# The bench's messages are due at one fixed instant (inside every debtor's window); the
# send-time choice would hold some for another hour, which is not what is measured.
SEND_TIME_CHOICE = False
