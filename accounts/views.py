"""The agent's first look: the account list (search by name, reference, phone) and one
account page with debtor, contact points, balances, ledger and timeline."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.vary import vary_on_headers

from accounts import selectors, services
from accounts.models import Account, AccountStatus, Creditor
from compliance.views import account_card_context
from payments.views import account_money_context
from recovery.access import ALL_ROLES, STAFF_ROLES, office_view

PAGE_SIZE = 50


@office_view(roles=ALL_ROLES)
@vary_on_headers("HX-Request")
def account_list(request):
    query = request.GET.get("q", "")
    status = request.GET.get("status", "")
    creditor_id = request.GET.get("creditor") or None
    if creditor_id and not creditor_id.isdigit():
        creditor_id = None
    accounts = selectors.account_list(
        membership=request.membership, query=query, status=status, creditor_id=creditor_id
    )
    page = Paginator(accounts, PAGE_SIZE, allow_empty_first_page=True).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "query": query,
        "status": status,
        "creditor_id": creditor_id,
        "statuses": AccountStatus.choices,
        "creditors": Creditor.objects.only("id", "name")
        if not request.membership.creditor_id
        else [],
    }
    template = "accounts/_account_rows.html" if request.htmx else "accounts/account_list.html"
    return render(request, template, context)


@office_view(roles=ALL_ROLES)
def account_detail(request, account_id):
    try:
        account = selectors.account_get(membership=request.membership, account_id=account_id)
    except Account.DoesNotExist:
        raise Http404("No such account") from None
    if request.method == "POST" and request.membership.role in STAFF_ROLES:
        try:
            services.note_add(
                account=account, body=request.POST.get("body", ""), author=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Note saved.")
        return redirect("account_detail", office_slug=request.office.slug, account_id=account.pk)
    debtor = account.debtor
    context = {
        "account": account,
        "debtor": debtor,
        "contact_points": debtor.contact_points.order_by("kind", "-is_primary", "id"),
        "other_accounts": selectors.accounts_visible_to(request.membership)
        .filter(debtor=debtor)
        .exclude(pk=account.pk)
        .select_related("creditor"),
        "ledger": account.transactions.order_by("-posted_at", "-id")[:100],
        "events": account.events.select_related("actor")[:100],
        "notes": account.notes.select_related("author").order_by("-created_at")[:50],
        "co_obligors": account.co_obligors.select_related("debtor"),
        # Holds in force, disputes, consents, notices, decisions and the quick actions.
        **account_card_context(request, account),
        **account_money_context(request, account),
    }
    return render(request, "accounts/account_detail.html", context)
