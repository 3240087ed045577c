"""The office's side of the portal conversation: an agent reads what the debtor wrote
and replies (the reply shows in the debtor's portal). Staff pages, staff rules: the
office comes from the URL and the member's membership (`recovery.access.office_view`),
the account through the agent's own visibility (creditor users see only theirs)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.models import Account
from accounts.selectors import account_get
from portal import selectors, services
from recovery.access import STAFF_ROLES, office_view


@office_view(roles=STAFF_ROLES)
def conversation(request, account_id):
    try:
        account = account_get(membership=request.membership, account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account") from None
    error = None
    if request.method == "POST":
        try:
            services.reply_send(
                account=account, body=request.POST.get("body", ""), author=request.user
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect(reverse("staff_conversation", args=[request.office.slug, account.pk]))
    messages = selectors.messages_for_debtor(
        office_id=request.office.id, debtor_id=account.debtor_id, account_id=account.pk
    )
    return render(
        request,
        "portal/staff_conversation.html",
        {"account": account, "conversation": messages, "error": error},
        status=400 if error else 200,
    )
