"""The catalogue is complete: every rule id of ../shared/COMPLIANCE.md's tables is in
it, with the place it is enforced, and the officers' catalogue page lists them."""

import re
from pathlib import Path

from compliance.rules import GATE, catalogue_listing
from tests.factories import MembershipFactory

SPEC = Path(__file__).resolve().parents[3] / "shared" / "COMPLIANCE.md"
# The ids of the specification's tables, kept here too so the test holds where the
# specification is not checked out beside the repository.
SPEC_IDS = {
    "F-TIME", "F-PREF", "F-ATTY", "F-WORK", "F-CEASE", "F-3P", "F-EMAIL", "F-SMS60",
    "F-OPTOUT", "F-7IN7", "F-HARASS", "F-LCM", "F-MIRANDA", "F-VN", "F-VPERIOD",
    "F-OVERSHADOW", "F-DISPUTE", "F-ALLOC", "F-FEES", "F-EFT", "F-PASSIVE", "F-TIMEBAR",
    "F-AMOUNT", "F-ESIGN", "F-MEDIA", "F-DECEASED", "F-PAID", "F-STAY", "SCRA", "F-RETAIN",
    "T-CONSENT", "T-REVOKE", "T-RND", "T-CARRIER", "MA-CALLS", "MA-WORK", "WA", "NYC",
    "SOL-*", "UK-CONC", "IN-RBI", "EU-GDPR",
}  # fmt: skip
ROW_ID = re.compile(r"^\| ([A-Z][A-Z0-9]*(?:-[A-Z0-9*]+)*) \|", re.MULTILINE)


def spec_ids():
    if not SPEC.exists():
        return SPEC_IDS
    found = set(ROW_ID.findall(SPEC.read_text(encoding="utf-8")))
    assert found >= SPEC_IDS, f"the specification lost rows: {SPEC_IDS - found}"
    return found


def test_every_rule_of_the_specification_is_in_the_catalogue():
    listed = {rule_id: where for rule_id, _title, where in catalogue_listing()}
    missing = spec_ids() - set(listed)
    assert not missing, f"not in the catalogue: {sorted(missing)}"
    assert all(listed[i] for i in spec_ids())


def test_payment_rules_name_where_they_are_enforced():
    listed = {rule_id: where for rule_id, _title, where in catalogue_listing()}
    assert "payments/allocation.py" in listed["F-ALLOC"]
    assert "checkout.py" in listed["F-FEES"] and "checkout.py" in listed["F-AMOUNT"]
    assert "autopay.py" in listed["F-EFT"]
    assert listed["MA-WORK"] == listed["F-3P"] == listed["EU-GDPR"] == GATE


def test_the_officer_reads_the_catalogue_and_an_agent_may_not(client, login, office_a):
    url = f"/o/{office_a.slug}/compliance/rules/"
    login(MembershipFactory(office=office_a, role="agent"))
    assert client.get(url).status_code in (403, 404)
    login(MembershipFactory(office=office_a, role="compliance"))
    page = client.get(url).content.decode()
    for rule_id in ("F-ALLOC", "F-FEES", "F-EFT", "F-AMOUNT", "MA-WORK", "F-3P", "EU-GDPR"):
        assert rule_id in page
    assert "Payment allocation (payments/allocation.py)" in page
