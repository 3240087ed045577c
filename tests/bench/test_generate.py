"""The benchmark generator at a tiny scale, on the test database, as the application
role: its rows obey the same invariants as the product's (ledger, foreign keys, RLS)."""

import pytest
from django.conf import settings

from accounts.models import Account, Event
from accounts.services import account_ledger_mismatches
from recovery import tenancy

pytestmark = pytest.mark.skipif(not settings.IS_POSTGRES, reason="the generator uses COPY")


def test_generated_office_balances_and_is_readable_through_the_orm(db):
    from bench.generate import generate

    counts = generate(accounts=120, seed=7, office_slug="tiny-bench")
    assert counts["mismatches"] == 0
    assert counts["orphans"] == 0
    with tenancy.office_context(counts["office_id"]):
        assert Account.objects.count() == 120
        assert Event.objects.count() >= 120
        assert account_ledger_mismatches() == []
        account = Account.objects.select_related("debtor").first()
        # Encrypted fields decrypt with the app's keys; blind indexes match.
        assert len(account.debtor.date_of_birth) == 10
