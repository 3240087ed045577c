"""Pay and plans, through `payments` (its services take the money and keep the rules:
minimum, lump-sum offers, the gate, time-barred disclosures, plan policy).

`payments` is being written alongside the portal: `payments_ready()` says whether the
functions these pages call exist yet, and the pages say "not available yet" (and link
to the phone) until they do.
"""

import importlib
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from portal import selectors
from portal.templatetags.portal_tags import money
from portal.views.base import page, portal_view

_NEEDED = {
    "payments.services": ("checkout_start", "plan_create", "plan_propose"),
    "payments.selectors": ("pay_options", "plan_options", "time_barred_disclosure"),
}


def _payments_api():
    """The payments functions the portal calls, or None while any is missing."""
    found = {}
    for module_name, names in _NEEDED.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return None
        for name in names:
            function = getattr(module, name, None)
            if function is None:
                return None
            found[name] = function
    return found


def payments_ready():
    return _payments_api() is not None


def _account(request, account_id):
    return selectors.account_for_debtor(
        office_id=request.portal.office.id,
        debtor_id=request.portal.debtor.pk,
        account_id=account_id,
    )


def _unavailable(request, account):
    return page(request, "portal/pay_unavailable.html", {"account": account}, status=503)


def _money(raw):
    raw = (raw or "").replace(",", "").replace("$", "").strip()
    try:
        value = Decimal(raw).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _to_checkout(request, api, errors, **kwargs):
    """Off to the payment page, or (the amount or the gateway refused) a note in
    `errors` and None, so the form shows again."""
    try:
        start = api["checkout_start"](debtor_id=request.portal.debtor.pk, source="portal", **kwargs)
    except ValidationError:
        errors["form"] = _("We couldn't start this payment. Please try again, or call us.")
        return None
    return redirect(start.redirect_url)


@portal_view
@require_http_methods(["GET", "POST"])
def pay(request, account_id):
    account = _account(request, account_id)
    api = _payments_api()
    if api is None:
        return _unavailable(request, account)
    today = timezone.localdate()
    options = api["pay_options"](account, today)
    disclosure = disclosure_text(api["time_barred_disclosure"](account))
    errors = {}
    # Nothing is chosen for the debtor: a settlement is offered, never pushed.
    choice = request.POST.get("choice", "")
    if request.method == "POST":
        settle = choice == "lump" and options.lump_sum is not None
        if choice == "full":
            amount = options.balance
        elif settle:
            amount = options.lump_sum.amount
        elif choice == "other":
            amount = _money(request.POST.get("amount"))
            if amount is None or amount < options.minimum_payment or amount > options.balance:
                errors["amount"] = _("Enter an amount from %(min)s to %(max)s.") % {
                    "min": money(options.minimum_payment, account.currency),
                    "max": money(options.balance, account.currency),
                }
        else:
            errors["choice"] = _("Choose how much you want to pay.")
        if disclosure and request.POST.get("disclosure_read") != "1":
            errors["disclosure"] = _("Please confirm you have read the notice above.")
        if not errors:
            done = request.build_absolute_uri(reverse("portal:pay_done", args=[account.pk]))
            back = request.build_absolute_uri(reverse("portal:pay", args=[account.pk]))
            response = _to_checkout(
                request,
                api,
                errors,
                account=account,
                amount=amount,
                success_url=done,
                cancel_url=back,
                **({"settle": True} if settle else {}),
            )
            if response is not None:
                return response
    return page(
        request,
        "portal/pay.html",
        {
            "account": account,
            "options": options,
            "disclosure": disclosure,
            "errors": errors,
            "choice": choice,
            "amount": request.POST.get("amount", ""),
        },
        status=400 if errors else 200,
    )


@portal_view
def pay_done(request, account_id):
    """Where the payment page sends the debtor back: the payment as it stands now (the
    gateway's confirmation may arrive a moment later)."""
    from payments.models import Payment

    account = _account(request, account_id)
    payment = (
        Payment.objects.filter(
            office_id=account.office_id, account_id=account.pk, debtor_id=account.debtor_id
        )
        .order_by("-id")
        .first()
    )
    account.refresh_from_db()
    return page(request, "portal/pay_done.html", {"account": account, "payment": payment})


@portal_view
@require_http_methods(["GET", "POST"])
def pay_several(request):
    """One payment split across the debtor's accounts as they choose (F-ALLOC: a payment
    is applied as the debtor directs)."""
    api = _payments_api()
    accounts = [
        a
        for a in selectors.accounts_for_debtor(
            office_id=request.portal.office.id, debtor_id=request.portal.debtor.pk
        )
        if a.is_open and a.balance > 0
    ]
    if api is None or len(accounts) < 2:
        return redirect(reverse("portal:overview"))
    disclosures = {
        a.pk: disclosure_text(api["time_barred_disclosure"](a))
        for a in accounts
        if api["time_barred_disclosure"](a)
    }
    minimum = min(api["pay_options"](a).minimum_payment for a in accounts)
    errors, parts = {}, {}
    if request.method == "POST":
        for a in accounts:
            value = _money(request.POST.get(f"amount_{a.pk}") or "0")
            if value is None or value < 0 or value > a.balance:
                parts = None
                break
            if value > 0:
                parts[a.pk] = value
        if parts is None or sum(parts.values(), Decimal(0)) < minimum:
            errors["amount"] = _(
                "Enter amounts from 0 up to each balance, at least %(min)s in all."
            ) % {"min": money(minimum, accounts[0].currency)}
        chosen = parts or {}
        if any(pk in disclosures for pk in chosen) and request.POST.get("disclosure_read") != "1":
            errors["disclosure"] = _("Please confirm you have read the notice above.")
        if not errors:
            first = next(a for a in accounts if a.pk in parts)
            overview = request.build_absolute_uri(reverse("portal:overview"))
            response = _to_checkout(
                request,
                api,
                errors,
                account=first,
                amount=sum(parts.values(), Decimal(0)),
                direction=parts,
                success_url=f"{overview}?paid=1",
                cancel_url=request.build_absolute_uri(reverse("portal:pay_several")),
            )
            if response is not None:
                return response
    return page(
        request,
        "portal/pay_several.html",
        {
            "rows": [(a, request.POST.get(f"amount_{a.pk}", "")) for a in accounts],
            "disclosures": [(a, disclosures[a.pk]) for a in accounts if a.pk in disclosures],
            "errors": errors,
        },
        status=400 if errors else 200,
    )


FREQUENCIES = ("weekly", "biweekly", "monthly")

# `payments.selectors.time_barred_disclosure` words its notices in English; these are
# the same notices for the catalogue (an unknown wording is shown as it comes).
_DISCLOSURE_MAYBE = gettext_noop(
    "This debt may be too old for you to be sued for it. In some states, making a payment "
    "can restart the time period in which you can be sued. You do not have to pay, and we "
    "will not sue you for it."
)
_DISCLOSURE_STATE = re.compile(
    r"^The law limits how long you can be sued on a debt\. Because of the age of this "
    r"debt, we will not sue you for it\. Under (?P<state>[A-Z]{2}) law, if you make a "
    r"payment, the creditor may be able to sue you for the rest\.$"
)


def disclosure_text(text):
    if not text:
        return text
    match = _DISCLOSURE_STATE.match(text)
    if match:
        return _(
            "The law limits how long you can be sued on a debt. Because of the age of this "
            "debt, we will not sue you for it. Under %(state)s law, if you make a payment, "
            "the creditor may be able to sue you for the rest."
        ) % {"state": match.group("state")}
    return _(text) if text == _DISCLOSURE_MAYBE else text


def _autopay_setup(request, plan, account):
    from payments.services import autopay_setup_start

    back = request.build_absolute_uri(reverse("portal:plans", args=[account.pk]))
    try:
        start = autopay_setup_start(
            plan=plan, success_url=back + "?autopay=1", cancel_url=back + "?created=1"
        )
    except ValidationError:
        return redirect(back + "?created=1")
    return redirect(start.redirect_url)


def _autopay_change(request, account, plan, kind):
    from payments.services import autopay_cancel

    if plan is None or plan.status != "active":
        return redirect(reverse("portal:plans", args=[account.pk]))
    if kind == "autopay_on" and not plan.autopay:
        return _autopay_setup(request, plan, account)
    if kind == "autopay_off" and plan.autopay:
        autopay_cancel(plan=plan, source="portal")
    return redirect(reverse("portal:plans", args=[account.pk]))


MOVE_REASONS = {
    "payday": gettext_noop("My payday changed"),
    "expense": gettext_noop("An unexpected expense"),
    "other": gettext_noop("Something else"),
}


def _next_payment(plan):
    if plan is None or plan.status != "active":
        return None
    return plan.installments.filter(status="scheduled").order_by("due_date").first()


def _move_next_payment(account, plan, form, errors):
    """The debtor moves their next payment within the policy (the service decides the
    latest date). Returns True when it moved; otherwise fills `errors`."""
    from payments.services import installment_reschedule

    item = _next_payment(plan)
    reason = MOVE_REASONS.get(form.get("reason", ""))
    try:
        new_date = date.fromisoformat(form.get("due_date", ""))
    except ValueError:
        new_date = None
    if item is None:
        errors["move"] = _("There is no payment left to move.")
    elif new_date is None:
        errors["move"] = _("Choose the new date.")
    elif reason is None:
        errors["move"] = _("Tell us why, so we can help if it happens again.")
    if errors:
        return False
    try:
        installment_reschedule(installment=item, due_date=new_date, reason=reason, source="portal")
    except ValidationError:
        errors["move"] = _("Choose a date between today and %(latest)s.") % {
            "latest": _latest_move(item).strftime("%Y-%m-%d")
        }
        return False
    return True


def _latest_move(item):
    from payments.selectors import policy_for

    return item.due_date + timedelta(days=max(policy_for(item.plan.account).grace_days, 14))


def _saved_methods(request):
    from payments.models import PaymentMethod

    return list(
        PaymentMethod.objects.filter(
            office_id=request.portal.office.id,
            debtor_id=request.portal.debtor.pk,
            revoked_at__isnull=True,
        ).order_by("-authorised_at")
    )


def _start_date(raw, today):
    try:
        value = date.fromisoformat(raw)
    except (TypeError, ValueError):
        return None
    return value if today <= value <= today + timedelta(days=30) else None


@portal_view
@require_http_methods(["GET", "POST"])
def plans(request, account_id):
    account = _account(request, account_id)
    api = _payments_api()
    if api is None:
        return _unavailable(request, account)
    from payments.selectors import open_plan

    today = timezone.localdate()
    options = api["plan_options"](account, today)
    current = open_plan(account)
    methods = _saved_methods(request)
    errors = {}
    form = request.POST
    if request.method == "POST" and form.get("kind") in ("autopay_on", "autopay_off"):
        return _autopay_change(request, account, current, form.get("kind"))
    if request.method == "POST" and form.get("kind") == "move" and current is not None:
        if _move_next_payment(account, current, form, errors):
            return redirect(reverse("portal:plans", args=[account.pk]) + "?moved=1")
    if request.method == "POST" and current is not None and not errors:
        return redirect(reverse("portal:plans", args=[account.pk]))
    if request.method == "POST":
        start = _start_date(form.get("start_date"), today)
        if start is None:
            errors["start_date"] = _("Choose a first payment date in the next 30 days.")
        if form.get("kind") == "custom":
            amount = _money(form.get("installment_amount"))
            frequency = form.get("frequency")
            if amount is None or amount <= 0:
                errors["installment_amount"] = _("Enter the amount you can pay each time.")
            if frequency not in FREQUENCIES:
                errors["frequency"] = _("Choose how often you would pay.")
            if not errors:
                try:
                    api["plan_propose"](
                        account=account,
                        installment_amount=amount,
                        frequency=frequency,
                        start_date=start,
                        note=(form.get("note") or "")[:500],
                        source="portal",
                    )
                except ValidationError as exc:
                    errors["form"] = " ".join(exc.messages)
                else:
                    return redirect(reverse("portal:plans", args=[account.pk]) + "?proposed=1")
        else:
            try:
                option = options[int(form.get("option", ""))]
            except (ValueError, IndexError):
                errors["option"] = _("Choose one of the plans.")
                option = None
            if not errors:
                autopay = form.get("autopay") == "1"
                try:
                    plan = api["plan_create"](
                        account=account,
                        installment_amount=option.installment_amount,
                        count=option.count,
                        frequency=option.frequency,
                        start_date=start,
                        autopay=autopay and bool(methods),
                        payment_method=methods[0] if autopay and methods else None,
                        source="portal",
                    )
                except ValidationError as exc:
                    errors["form"] = " ".join(exc.messages)
                else:
                    if autopay and not methods:
                        # No saved card yet: save one on the gateway's page, then back here.
                        return _autopay_setup(request, plan, account)
                    return redirect(reverse("portal:plans", args=[account.pk]) + "?created=1")
    return page(
        request,
        "portal/plans.html",
        {
            "account": account,
            "options": list(enumerate(options)),
            "current": current,
            "errors": errors,
            "today": today,
            "latest_start": today + timedelta(days=30),
            "created": request.GET.get("created") == "1",
            "autopay_saved": request.GET.get("autopay") == "1",
            "proposed": request.GET.get("proposed") == "1",
            "moved": request.GET.get("moved") == "1",
            "next_payment": _next_payment(current),
            "move_latest": _latest_move(_next_payment(current)) if _next_payment(current) else None,
            "move_reasons": [(k, _(v)) for k, v in MOVE_REASONS.items()],
            "post": form,
            "start_value": form.get("start_date") or today.isoformat(),
            "method": methods[0] if methods else None,
        },
        status=400 if errors else 200,
    )
