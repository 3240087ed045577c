"""Send-time choice: the hour of the week the debtor (or, without history, similar
debtors of the office) most often responds, used only within a day and inside the
window, chosen once per message and written on it."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Event
from campaigns import sendtime
from campaigns.models import Message
from campaigns.sendtime import Slot, best_slot, next_slot_start, send_time_choose
from recovery import tenancy
from tests.campaigns.twilio_fakes import dispatch, planned
from tests.compliance.conftest import NOON, Scene

NY = "America/New_York"
# NOON is Tuesday 17 November 2026, 10:00 in New York (15:00 UTC).
TUESDAY_3PM = Slot(weekday=2, hour=15, zone=NY, responses=3, why="the debtor responded 3 times")


def responses(scene, *local_hours, weekday_offset=0, kind="payment"):
    """Responses by the scene's debtor at these New York hours on past Tuesdays (or the
    day `weekday_offset` after), one a week."""
    with tenancy.office_context(scene.office.id):
        for i, hour in enumerate(local_hours):
            day = date(2026, 11, 17) - timedelta(weeks=i + 1) + timedelta(days=weekday_offset)
            at = datetime.combine(day, time(hour), tzinfo=ZoneInfo(NY))
            Event.objects.create(
                account=scene.account,
                debtor_id=scene.debtor.id,
                kind=kind,
                occurred_at=at,
                summary="response",
            )


def test_the_best_slot_is_the_most_frequent_with_enough_responses():
    counts = Counter({(2, 18): 3, (4, 9): 3, (5, 12): 1})
    assert best_slot(counts, minimum=2) == (2, 18, 3)  # a tie goes to the earlier hour
    assert best_slot(counts, minimum=4) is None
    assert best_slot(Counter(), minimum=1) is None


def test_the_next_slot_start_is_today_now_or_next_week():
    assert next_slot_start(TUESDAY_3PM, NOON) == datetime(2026, 11, 17, 20, 0, tzinfo=UTC)
    inside = datetime(2026, 11, 17, 20, 30, tzinfo=UTC)
    assert next_slot_start(TUESDAY_3PM, inside) == inside
    after = datetime(2026, 11, 17, 21, 0, tzinfo=UTC)
    assert next_slot_start(TUESDAY_3PM, after) == datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def test_a_message_is_held_for_the_best_hour_within_a_day_inside_the_window():
    when, reason = send_time_choose(TUESDAY_3PM, now=NOON, due_at=NOON, allowed=lambda at: True)
    assert when == datetime(2026, 11, 17, 20, 0, tzinfo=UTC)
    assert reason == f"held for the best hour Tue 15:00 {NY} (the debtor responded 3 times)"


@pytest.mark.parametrize(
    ("slot", "allowed", "expected"),
    [
        (None, True, "no response history"),
        (TUESDAY_3PM, False, "is outside the window: sent when due"),
        (Slot(weekday=1, hour=15, zone=NY, responses=2, why="x"), True, "over a day away"),
    ],
)
def test_otherwise_the_message_goes_when_due_and_says_why(slot, allowed, expected):
    when, reason = send_time_choose(slot, now=NOON, due_at=NOON, allowed=lambda at: allowed)
    assert when is None
    assert expected in reason


def test_the_debtors_own_history_comes_first(office_a):
    scene = Scene(office_a)
    others = [Scene(office_a, phone=f"+1212555{i:04d}") for i in range(6)]
    for other in others:
        responses(other, 11, weekday_offset=1)  # similar debtors: Wednesdays 11:00
    responses(scene, 15, 15, 9)
    with tenancy.office_context(office_a.id):
        message = Message(debtor_id=scene.debtor.id)
        slot = sendtime.slots_for([message], office_id=office_a.id, now=NOON)[scene.debtor.id]
    assert (slot.weekday, slot.hour, slot.zone, slot.responses) == (2, 15, NY, 2)
    assert slot.why == "the debtor responded 2 times then"


def test_without_history_similar_debtors_of_the_office_decide(office_a, office_b):
    scene = Scene(office_a)
    for i in range(5):
        responses(Scene(office_a, phone=f"+1212555{i:04d}"), 11, weekday_offset=1)
    for i in range(9):  # another office's debtors never count
        responses(Scene(office_b, phone=f"+1212556{i:04d}"), 16)
    with tenancy.office_context(office_a.id):
        message = Message(debtor_id=scene.debtor.id)
        slot = sendtime.slots_for([message], office_id=office_a.id, now=NOON)[scene.debtor.id]
    assert (slot.weekday, slot.hour) == (3, 11)
    assert slot.why == "similar debtors in NY responded 5 times then"


def test_a_debtor_in_an_unknown_zone_gets_no_choice(office_a):
    scene = Scene(office_a, zip_code="00000", phone="+15005550006")
    responses(scene, 15, 15, 15)
    with tenancy.office_context(office_a.id):
        message = Message(debtor_id=scene.debtor.id)
        assert sendtime.slots_for([message], office_id=office_a.id, now=NOON) == {
            scene.debtor.id: None
        }


def test_dispatch_holds_the_email_for_the_best_hour_then_sends_it_once(office_a):
    scene = planned(office_a, channels=("email",))
    responses(scene, 15, 15)
    assert dispatch(scene)["deferred"] == 1
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
    three_pm = datetime(2026, 11, 17, 20, 0, tzinfo=UTC)
    assert message.status == "deferred"
    assert message.due_at == message.send_time_at == three_pm
    assert message.send_time_reason.startswith("held for the best hour Tue 15:00")
    assert dispatch(scene, at=three_pm)["sent"] == 1
    with tenancy.office_context(office_a.id):
        message.refresh_from_db()
    assert message.status == "sent"
    assert message.send_time_reason.startswith("held for the best hour")  # chosen once


def test_dispatch_without_history_sends_when_due_and_says_so(office_a):
    scene = planned(office_a, channels=("email",))
    assert dispatch(scene)["sent"] == 1
    with tenancy.office_context(office_a.id):
        message = Message.objects.get()
    assert message.send_time_at is None
    assert message.send_time_reason.startswith("no response history")
