"""`python -m bench dispatch` at a tiny scale, on the test database and Redis: real Celery
workers send every planned message once through the SDKs to the local fake, and the
summary line has the benchmark's format. And the dispatcher's queries per batch do not
grow with the batch."""

import json
import re

import pytest
import responses
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.campaigns.twilio_fakes import MESSAGES_URL, form, message_json, new_sid

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="the generator uses COPY")

SUMMARY = re.compile(
    r"bench dispatch: [\d,]+ messages/s \(baseline [\d,]+, ratio \d+\.\d\d\) "
    r"messages=(\d+) workers=2 cpu_per_message=[\d,]+µs"
)


@pytest.fixture
def providers(settings):
    from tests.campaigns.twilio_fakes import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID
    settings.RATE_LIMITS = {"email": "1000/s", "sms": "1000/s", "platform": {"sms": "1000/s"}}
    settings.SEND_TIME_CHOICE = False

    def created(request):
        return 201, {}, json.dumps(message_json(sid=new_sid(), to=form(request)["To"]))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as twilio:
        twilio.add_callback(responses.POST, MESSAGES_URL, callback=created)
        yield twilio


def test_queries_per_batch_do_not_grow_with_the_batch(db, providers):
    from bench.dispatch import AT, office_for, plan, statuses
    from campaigns.dispatch import dispatch_due
    from recovery import tenancy

    office = office_for(120, say=lambda line: None)
    ids = plan(office, 16)
    queries = []
    with tenancy.office_scope(office.id):
        for size in (4, 12):
            with CaptureQueriesContext(connection) as ctx:
                counts = dispatch_due(office=office, now=AT, limit=size)
            assert counts["sent"] == size, counts
            queries.append(len(ctx.captured_queries))
    assert queries[0] == queries[1], queries
    assert statuses(office) == {"sent": 16}
    # Each message went out once, through its own channel.
    texts = [form(c.request)["StatusCallback"].rsplit("=", 1)[1] for c in providers.calls]
    emails = [m.metadata["message_id"] for m in mail.outbox]
    assert len(texts) == len(set(texts)) == 8 and len(emails) == len(set(emails)) == 8
    assert {int(i) for i in texts + emails} == set(ids)


@pytest.mark.django_db(transaction=True)
def test_the_bench_sends_every_message_once_with_real_workers(tmp_path):
    from bench.dispatch import problems, run, summary

    db = connection.settings_dict
    url = (f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")  # fmt: skip
    lines = []
    result = run(messages=12, workers=2, database_url=url, app_url=url,
                 redis_url=settings.REDIS_URL, say=lines.append, log_dir=tmp_path)  # fmt: skip
    assert problems(result) == []
    assert result["statuses"] == {"sent": 12}
    assert sorted(int(k) for c in result["provider_calls"].values() for k in c) == sorted(
        result["ids"]
    )
    assert result["baseline_calls"] == 12  # the same calls, made by the bare loop
    *_, line = summary(result, workers=2)
    assert SUMMARY.fullmatch(line), line
    assert SUMMARY.fullmatch(line).group(1) == "12"


def test_problems_name_a_message_sent_twice_or_never():
    from bench.dispatch import problems

    result = {
        "ids": [1, 2, 3],
        "messages": 3,
        "provider_calls": {"sms": {"1": 2}, "email": {"2": 1}},
        "statuses": {"sent": 2, "planned": 1},
    }
    found = problems(result)
    assert any("more than once" in p and "'1'" in p for p in found), found
    assert "1 messages never reached the provider" in found
    assert "statuses {'sent': 2, 'planned': 1}, expected all sent" in found
