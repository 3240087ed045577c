"""Erasure requests (EU-GDPR): recorded from the account page, listed with their state
for the compliance officer."""

from django.core.paginator import Paginator
from django.shortcuts import render

from compliance import selectors, services
from compliance.forms import ErasureRequestForm
from compliance.views.account import _account_action
from recovery.access import COMPLIANCE_READERS, STAFF_ROLES, office_view

PAGE_SIZE = 50


@office_view(roles=STAFF_ROLES)
def account_erasure(request, account_id):
    def perform(account, data):
        record = services.erasure_request_record(
            debtor=account.debtor,
            requested_by=data["requested_by"],
            received_via=data["received_via"],
            received_at=services.day_start(office=request.office, day=data["received_on"]),
            recorded_by=request.user,
        )
        if record.status == record.Status.ERASED:
            return "Erasure request recorded: nothing needed the data any more, so it is erased."
        return (
            "Erasure request recorded: nobody contacts this debtor any more. The data is kept "
            f"for {'; '.join(record.kept_for)}, then erased; the compliance officer has a task."
        )

    return _account_action(
        request, account_id, action="erasure", form_class=ErasureRequestForm, perform=perform
    )


@office_view(roles=COMPLIANCE_READERS)
def erasure_list(request):
    page = Paginator(selectors.erasure_requests(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "compliance/erasure_list.html",
        {"page": page, "counts": selectors.erasure_counts()},
    )
