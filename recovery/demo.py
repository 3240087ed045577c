"""The seeded demo: two offices with creditors, a few thousand realistic accounts each
(ledgers that balance, timelines, plans, disputes, work), and one user per role.

Safe to run twice: an office that exists is left as it is. Writes in bulk (this also
runs on SQLite for the quick start), keeping the ledger invariant: every account's
cached balances equal the sums of the ledger rows written for it.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import (
    Account,
    AccountStatus,
    Creditor,
    Event,
    Note,
    Placement,
    Transaction,
)
from compliance.models import Dispute, Hold, ValidationNotice
from compliance.services import validation_period
from debtors.models import ContactPoint, Debtor, Source
from debtors.timezones import zones_for_phone
from payments.models import Installment, Payment, PaymentPlan
from recovery import demo_people, tenancy
from recovery.models import Membership, Office, Role, User, WorkItem

DEMO_PASSWORD = "demo-collect-kindly"  # noqa: S105 - a published demo login, not a secret
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

OFFICES = [
    {
        "slug": "harbor",
        "name": "Harbor Recovery Partners",
        "collector_type": Office.CollectorType.THIRD_PARTY,
        "time_zone": "America/New_York",
        "licensed_states": ["NY", "NJ", "PA", "MA", "CT", "FL", "GA", "TX", "IL", "OH", "CA",
                            "WA", "AZ", "CO", "NC", "VA", "MI"],
        "brand_color": "#2f5d62",
        "public_phone": "+1 (212) 555-0142",
        "public_email": "help@harbor.example",
        "creditors": [
            ("LCB", "Lakeside Community Bank", "0.2500"),
            ("MHS", "Meridian Health System", "0.3000"),
            ("SWL", "Summit Wireless", "0.3500"),
            ("CVD", "Cedar Valley Dental", "0.2800"),
        ],
    },
    {
        "slug": "northwind",
        "name": "Northwind Utilities — Customer Recovery",
        "collector_type": Office.CollectorType.FIRST_PARTY,
        "time_zone": "America/Chicago",
        "licensed_states": ["IL", "WI", "MN", "IA", "MO", "IN"],
        "brand_color": "#3a4f8c",
        "public_phone": "+1 (312) 555-0177",
        "public_email": "billing-help@northwind.example",
        "creditors": [
            ("NWE", "Northwind Electric", "0.0000"),
            ("NWG", "Northwind Gas", "0.0000"),
        ],
    },
]  # fmt: skip

STATUS_WEIGHTS = [
    (AccountStatus.NEW, 10), (AccountStatus.ACTIVE, 44), (AccountStatus.IN_PLAN, 12),
    (AccountStatus.DISPUTED, 3), (AccountStatus.ON_HOLD, 2), (AccountStatus.PAID, 12),
    (AccountStatus.SETTLED, 6), (AccountStatus.CLOSED, 5), (AccountStatus.RECALLED, 3),
    (AccountStatus.LEGAL, 3),
]  # fmt: skip


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Login:
    office: str
    role: str
    email: str


def demo_logins():
    logins = []
    for spec in OFFICES:
        domain = f"{spec['slug']}.example"
        for role in Role.values:
            logins.append(Login(spec["name"], Role(role).label, f"{role}@{domain}"))
    logins.append(Login("both offices", "Office admin", "owner@demo.example"))
    logins.append(Login("platform", "Operator (Django admin)", "operator@demo.example"))
    return logins


def seed(*, accounts_per_office=2500, seed=2026, stdout=None):
    """Create the demo offices that do not exist yet. Returns the slugs created."""
    created = []
    for spec in OFFICES:
        if Office.objects.filter(slug=spec["slug"]).exists():
            continue
        rng = random.Random(f"{seed}-{spec['slug']}")
        with transaction.atomic():
            office = _office(spec)
            with tenancy.office_context(office.id):
                _OfficeSeeder(office, spec, rng, accounts_per_office).run()
            from campaigns.library import starter_templates_create

            starter_templates_create(office=office)
            _campaign(office)
        created.append(spec["slug"])
        if stdout:
            stdout.write(f"Seeded {spec['name']} with {accounts_per_office} accounts")
    _shared_users()
    return created


def _campaign(office):
    """One live campaign, so the demo's beat really plans and sends: a friendly reminder
    now, a plan offer a week later (by text too for a first-party office), a lump-sum
    offer after two weeks; accounts leave it when they pay, settle, set up a plan,
    dispute, cease or are on hold."""
    from campaigns import services as campaign_services
    from campaigns.models import MessageTemplate

    with tenancy.office_context(office.id):
        ids = {(t.name, t.channel): t.id for t in MessageTemplate.objects.filter(language="en")}
        plan_channels = ["email", "sms"] if office.collector_type == "first_party" else ["email"]
        campaign = campaign_services.campaign_save(
            spec={
                "name": "Gentle reminders",
                "entry_segment": {
                    "op": "and",
                    "rules": [
                        {"field": "balance", "min": "100", "max": "600"},
                        {"field": "status", "values": ["new", "active"]},
                    ],
                },
                "exit_conditions": ["paid", "settled", "plan", "dispute", "cease", "hold"],
                "escalation": {},
                "steps": [
                    {
                        "wait_days": 0,
                        "channels": ["email"],
                        "templates": {"email": ids[("Friendly reminder", "email")]},
                    },
                    {
                        "wait_days": 7,
                        "channels": plan_channels,
                        "templates": {
                            c: ids[("Offer of a payment plan", c)] for c in plan_channels
                        },
                    },
                    {
                        "wait_days": 7,
                        "channels": ["email"],
                        "templates": {"email": ids[("Lump-sum discount", "email")]},
                    },
                ],
            }
        )
        campaign_services.campaign_activate(campaign=campaign)


def _office(spec):
    fields = {k: v for k, v in spec.items() if k not in ("creditors",)}
    office = Office.objects.create(
        **fields,
        mailing_address="PO Box 4100, Albany, NY 12201"
        if spec["slug"] == "harbor"
        else "200 W Adams St, Chicago, IL 60606",
    )
    domain = f"{spec['slug']}.example"
    for role in Role.values:
        user, _ = User.objects.get_or_create(
            email=f"{role}@{domain}",
            defaults={"full_name": f"Demo {Role(role).label.lower()}"},
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    return office


def _shared_users():
    owner, created = User.objects.get_or_create(
        email="owner@demo.example", defaults={"full_name": "Dana Whitfield"}
    )
    if created:
        owner.set_password(DEMO_PASSWORD)
        owner.save()
    for office in Office.objects.filter(slug__in=[o["slug"] for o in OFFICES]):
        Membership.objects.get_or_create(office=office, user=owner, defaults={"role": Role.ADMIN})
    operator, created = User.objects.get_or_create(
        email="operator@demo.example",
        defaults={"full_name": "Platform operator", "is_staff": True, "is_superuser": True},
    )
    if created:
        operator.set_password(DEMO_PASSWORD)
        operator.save()


class _OfficeSeeder:
    def __init__(self, office, spec, rng, n_accounts):
        self.office = office
        self.spec = spec
        self.rng = rng
        self.n = n_accounts
        self.now = timezone.now()
        self.zips = demo_people.zip_pool(set(spec["licensed_states"]))

    def run(self):
        self.creditors = self._creditors()
        self.users = self._memberships()
        self.placements = self._placements()
        self.debtors, self.debtor_zip = self._debtors()
        self._contact_points()
        self._accounts()

    def _creditors(self):
        creditors = [
            Creditor(
                office=self.office,
                reference=ref,
                name=name,
                contingency_fee_rate=Decimal(rate),
                remittance_email=f"remit@{ref.lower()}.example",
            )
            for ref, name, rate in self.spec["creditors"]
        ]
        for c in creditors:
            c.save()
        return creditors

    def _memberships(self):
        domain = f"{self.spec['slug']}.example"
        users = {}
        for role in Role.values:
            user = User.objects.get(email=f"{role}@{domain}")
            Membership.objects.create(
                office=self.office,
                user=user,
                role=role,
                creditor=self.creditors[0] if role == Role.CREDITOR else None,
            )
            users[role] = user
        return users

    def _placements(self):
        placements = []
        for creditor in self.creditors:
            for months_ago in (34, 26, 18, 12, 7, 3, 1):
                placed = self.now - timedelta(days=months_ago * 30 + self.rng.randint(0, 20))
                placements.append(
                    Placement(
                        office=self.office,
                        creditor=creditor,
                        placed_at=placed,
                        reference=f"{creditor.reference}-{placed:%Y%m%d}",
                        status=Placement.Status.IMPORTED,
                        imported_by=self.users[Role.MANAGER],
                    )
                )
        return Placement.objects.bulk_create(placements)

    def _debtors(self):
        debtors, zips = [], []
        for _ in range(int(self.n * 0.85)):
            first, last, language = demo_people.person(self.rng)
            dob = date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 50))
            d = Debtor(
                office=self.office,
                first_name=first,
                last_name=last,
                language=language,
                date_of_birth=dob.isoformat(),
                ssn_last4=f"{self.rng.randint(0, 9999):04d}",
            )
            d.refresh_blind_indexes()
            debtors.append(d)
            zips.append(self.rng.choice(self.zips))
        debtors = Debtor.objects.bulk_create(debtors, batch_size=1000)
        return debtors, dict(zip((d.pk for d in debtors), zips, strict=True))

    def _contact_points(self):
        points = []
        rng = self.rng
        for d in self.debtors:
            z = self.debtor_zip[d.pk]
            street = demo_people.street_for(rng)
            points.append(
                ContactPoint(
                    office=self.office,
                    debtor=d,
                    kind=ContactPoint.Kind.ADDRESS,
                    line1=street,
                    city=z["city"],
                    state=z["state"],
                    postal_code=z["zip_code"],
                    candidate_timezones=[z["timezone"]],
                    timezone_source=ContactPoint.TimezoneSource.ZIP,
                    is_primary=True,
                    validity=ContactPoint.Validity.RETURNED
                    if rng.random() < 0.03
                    else ContactPoint.Validity.VALID,
                    value=f"{street}, {z['city']}, {z['state']} {z['zip_code']}",
                )
            )
            # Some people moved: their phone's area code is in another zone.
            phone_zip = z if rng.random() < 0.85 else rng.choice(self.zips)
            phone = demo_people.phone_for(rng, phone_zip)
            zones = zones_for_phone(phone)
            points.append(
                ContactPoint(
                    office=self.office,
                    debtor=d,
                    kind=ContactPoint.Kind.PHONE,
                    value=phone,
                    phone_type=ContactPoint.PhoneType.MOBILE
                    if rng.random() < 0.7
                    else ContactPoint.PhoneType.LANDLINE,
                    candidate_timezones=zones,
                    is_primary=True,
                    timezone_source=ContactPoint.TimezoneSource.AREA_CODE
                    if zones
                    else ContactPoint.TimezoneSource.UNKNOWN,
                    last_consent_at=self.now - timedelta(days=rng.randint(1, 400)),
                )
            )
            if rng.random() < 0.7:
                points.append(
                    ContactPoint(
                        office=self.office,
                        debtor=d,
                        kind=ContactPoint.Kind.EMAIL,
                        value=demo_people.email_for(rng, d.first_name, d.last_name),
                        is_primary=True,
                        email_qualification=ContactPoint.EmailQualification.USED_BY_DEBTOR,
                        email_qualified_at=self.now - timedelta(days=rng.randint(30, 900)),
                    )
                )
        ContactPoint.objects.bulk_create(points, batch_size=2000)

    def _accounts(self):
        rng = self.rng
        statuses = [s for s, _ in STATUS_WEIGHTS]
        weights = [w for _, w in STATUS_WEIGHTS]
        agents = [self.users[Role.AGENT], self.users[Role.SUPERVISOR]]
        plans = []
        accounts, ledgers, openings = [], [], []
        for i in range(self.n):
            debtor = self.debtors[i] if i < len(self.debtors) else rng.choice(self.debtors)
            placement = rng.choice(self.placements)
            status = rng.choices(statuses, weights)[0]
            principal = money(min(25000, max(60, rng.lognormvariate(7.0, 0.9))))
            interest = money(principal * Decimal(rng.choice([0, 0, 0.04, 0.08, 0.12])))
            fees = money(rng.choice([0, 0, 0, 25, 35, 50]))
            charge_off = (placement.placed_at - timedelta(days=rng.randint(60, 900))).date()
            total = principal + interest + fees
            entries = self._ledger_for(status, principal, interest, fees, placement.placed_at)
            collected = ("payment", "reversal")
            paid = sum((-e["p"] - e["i"] - e["f"] for e in entries if e["kind"] in collected), ZERO)
            credited = sum(
                (-e["p"] - e["i"] - e["f"] for e in entries if e["kind"] == "adjustment"), ZERO
            )
            balances = [sum((e[k] for e in entries), ZERO) for k in ("p", "i", "f")]
            balances = [principal + balances[0], interest + balances[1], fees + balances[2]]
            account = Account(
                office=self.office,
                creditor=placement.creditor,
                placement=placement,
                debtor=debtor,
                creditor_reference=f"{placement.creditor.reference}{700000 + i}",
                office_reference=f"{self.spec['slug'][:2].upper()}-{100000 + i}",
                original_creditor=placement.creditor.name,
                original_account_last4=f"{rng.randint(0, 9999):04d}",
                governing_law_state=self.debtor_zip.get(debtor.pk, rng.choice(self.zips))["state"],
                currency="USD",
                origination_date=charge_off - timedelta(days=rng.randint(200, 2000)),
                charge_off_date=charge_off,
                last_payment_date=charge_off - timedelta(days=rng.randint(30, 200)),
                itemization_date=charge_off,
                itemization_amount=total,
                payments_since_itemization=paid,
                credits_since_itemization=credited,
                principal_balance=balances[0],
                interest_balance=balances[1],
                fees_balance=balances[2],
                total_placed=total,
                total_collected=paid,
                status=status,
                status_changed_at=placement.placed_at + timedelta(days=20),
                placed_at=placement.placed_at,
                resolved_at=placement.placed_at + timedelta(days=rng.randint(20, 200))
                if status in ("paid", "settled")
                else None,
                assigned_agent=rng.choice(agents) if rng.random() < 0.6 else None,
                priority=rng.randint(0, 100),
                tags=rng.sample(["medical", "hardship-risk", "high-balance", "spanish"], k=1)
                if rng.random() < 0.2
                else [],
            )
            accounts.append(account)
            ledgers.append(entries)
            openings.append((principal, interest, fees))
            if status == AccountStatus.IN_PLAN:
                plans.append(i)
        accounts = Account.objects.bulk_create(accounts, batch_size=1000)
        self._ledger_rows(accounts, ledgers, openings)
        self._timeline(accounts, ledgers)
        self._plans([accounts[i] for i in plans])
        self._notices([a for a in accounts if a.status != AccountStatus.NEW])
        self._disputes([a for a in accounts if a.status == AccountStatus.DISPUTED])
        self._work(accounts)

    def _ledger_for(self, status, principal, interest, fees, placed_at):
        """Planned ledger rows after the opening charge, as signed deltas."""
        rng = self.rng
        total = principal + interest + fees
        entries = []

        owed = {"f": fees, "i": interest, "p": principal}

        def pay(amount, days):
            # Allocation order: fees, then interest, then principal.
            parts = {}
            for key in ("f", "i", "p"):
                parts[key] = min(owed[key], amount)
                owed[key] -= parts[key]
                amount -= parts[key]
            entries.append(
                {
                    "kind": "payment",
                    **{k: -v for k, v in parts.items()},
                    "at": placed_at + timedelta(days=days),
                }
            )

        if status == AccountStatus.PAID:
            pay(total, rng.randint(10, 200))
        elif status == AccountStatus.SETTLED:
            share = money(total * Decimal(rng.choice(["0.6", "0.65", "0.7", "0.75"])))
            pay(share, rng.randint(10, 200))
            # The settlement discount writes off what is still owed.
            entries.append(
                {"kind": "adjustment", **{k: -v for k, v in owed.items()}, "at": entries[-1]["at"]}
            )
        elif status in (AccountStatus.IN_PLAN, AccountStatus.ACTIVE) and rng.random() < 0.4:
            for k in range(rng.randint(1, 4)):
                pay(money(total * Decimal("0.08")), 30 * (k + 1))
            if rng.random() < 0.1:
                entries.append(
                    {
                        "kind": "reversal",
                        "reverses": len(entries) - 1,
                        **{k: -entries[-1][k] for k in ("p", "i", "f")},
                        "at": entries[-1]["at"] + timedelta(days=5),
                    }
                )
        return entries

    def _ledger_rows(self, accounts, ledgers, openings):
        payments, rows = [], []
        for account, entries, opening in zip(accounts, ledgers, openings, strict=True):
            rows.append(
                Transaction(
                    office=self.office,
                    account=account,
                    kind="charge",
                    principal=opening[0],
                    interest=opening[1],
                    fees=opening[2],
                    currency="USD",
                    effective_date=account.placed_at.date(),
                    posted_at=account.placed_at,
                    memo="Balance at placement",
                )
            )
            for n, e in enumerate(entries):
                if e["kind"] == "payment":
                    payments.append(
                        Payment(
                            office=self.office,
                            account=account,
                            debtor_id=account.debtor_id,
                            amount=-(e["p"] + e["i"] + e["f"]),
                            currency="USD",
                            method=self.rng.choice(["card", "ach", "check"]),
                            gateway="demo",
                            status="succeeded",
                            received_at=e["at"],
                            idempotency_key=f"seed-{account.pk}-{n}",
                            created_at=e["at"],
                        )
                    )
        Transaction.objects.bulk_create(rows, batch_size=2000)
        payments = iter(Payment.objects.bulk_create(payments, batch_size=2000))
        rows = []
        for account, entries in zip(accounts, ledgers, strict=True):
            payment_for = {}
            for n, e in enumerate(entries):
                payment = None
                if e["kind"] == "payment":
                    payment = next(payments)
                    payment_for[n] = payment
                elif e["kind"] == "reversal":
                    payment = payment_for.get(e["reverses"])
                rows.append(
                    Transaction(
                        office=self.office,
                        account=account,
                        kind=e["kind"],
                        principal=e["p"],
                        interest=e["i"],
                        fees=e["f"],
                        currency="USD",
                        effective_date=e["at"].date(),
                        posted_at=e["at"],
                        payment=payment,
                        memo={
                            "payment": "Payment received",
                            "adjustment": "Settlement discount",
                            "reversal": "Returned payment",
                        }[e["kind"]],
                    )
                )
        created = Transaction.objects.bulk_create(rows, batch_size=2000)
        # Link reversals to the rows they reverse, now that both have ids (in bulk).
        reversals, offset = [], 0
        for entries in ledgers:
            for n, e in enumerate(entries):
                if e["kind"] == "reversal":
                    rev = created[offset + n]
                    rev.reverses_id = created[offset + e["reverses"]].pk
                    reversals.append(rev)
            offset += len(entries)
        Transaction.objects.bulk_update(reversals, ["reverses"], batch_size=2000)
        Payment.objects.filter(pk__in=[r.payment_id for r in reversals]).update(status="reversed")

    def _timeline(self, accounts, ledgers):
        rng = self.rng
        events, notes = [], []
        channels = ["email", "sms", "letter"]
        for account, entries in zip(accounts, ledgers, strict=True):
            at = account.placed_at
            events.append(
                Event(
                    office=self.office,
                    account=account,
                    debtor_id=account.debtor_id,
                    kind="placed",
                    occurred_at=at,
                    amount=account.total_placed,
                    summary=f"Placed by {account.creditor.name}",
                    data={"placement_id": account.placement_id},
                )
            )
            for _ in range(rng.randint(1, 6)):
                at = at + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 8))
                if at > self.now:
                    break
                channel = rng.choice(channels)
                events.append(
                    Event(
                        office=self.office,
                        account=account,
                        debtor_id=account.debtor_id,
                        kind="message_sent",
                        channel=channel,
                        occurred_at=at,
                        summary=f"{channel.upper() if channel == 'sms' else channel.title()}"
                        " reminder sent",
                    )
                )
                if rng.random() < 0.3:
                    events.append(
                        Event(
                            office=self.office,
                            account=account,
                            debtor_id=account.debtor_id,
                            kind="call",
                            channel="call",
                            occurred_at=at + timedelta(hours=2),
                            actor=account.assigned_agent,
                            summary=rng.choice(
                                [
                                    "No answer",
                                    "Left voicemail",
                                    "Spoke with debtor",
                                    "Promise to pay taken",
                                ]
                            ),
                            data={"outcome": "attempt"},
                        )
                    )
            for e in entries:
                label = {
                    "payment": "Payment received",
                    "adjustment": "Settlement discount applied",
                    "reversal": "Payment returned",
                }[e["kind"]]
                kind = {
                    "payment": "payment",
                    "adjustment": "status_changed",
                    "reversal": "reversal",
                }[e["kind"]]
                events.append(
                    Event(
                        office=self.office,
                        account=account,
                        debtor_id=account.debtor_id,
                        kind=kind,
                        occurred_at=e["at"],
                        amount=-(e["p"] + e["i"] + e["f"]),
                        summary=label,
                    )
                )
            if account.status not in ("new", "active"):
                events.append(
                    Event(
                        office=self.office,
                        account=account,
                        debtor_id=account.debtor_id,
                        kind="status_changed",
                        occurred_at=account.status_changed_at,
                        summary=f"Active → {AccountStatus(account.status).label}",
                        data={"from": "active", "to": account.status},
                    )
                )
            if rng.random() < 0.1:
                notes.append(
                    Note(
                        office=self.office,
                        account=account,
                        author=account.assigned_agent,
                        created_at=at,
                        body=rng.choice(
                            [
                                "Debtor asked for calls after 6pm only.",
                                "Lost job in March; interested in a small monthly plan.",
                                "Prefers email. Very polite, wants itemization first.",
                                "Said they will pay in full next payday.",
                            ]
                        ),
                    )
                )
        Event.objects.bulk_create(events, batch_size=5000)
        Note.objects.bulk_create(notes, batch_size=2000)

    def _plans(self, accounts):
        """Plans agreed in the last weeks, first payment still ahead: the daily sweep
        then reminds, charges and breaks them as time passes, as it would for real."""
        from payments.models import PlanPolicy
        from payments.selectors import installments_for

        PlanPolicy.objects.get_or_create(office=self.office, creditor=None)
        rng = self.rng
        today = timezone.localdate()
        plans, schedules = [], []
        for account in accounts:
            balance = account.balance
            count = rng.choice([3, 6, 8, 12])
            if balance < count * Decimal("0.01"):
                continue
            amounts = installments_for(balance, count)
            start = today + timedelta(days=rng.randint(1, 25))
            plans.append(
                PaymentPlan(
                    office=self.office,
                    account=account,
                    status=PaymentPlan.Status.ACTIVE,
                    source=rng.choice(["agent", "portal"]),
                    total_amount=balance,
                    balance_at_start=balance,
                    installment_amount=amounts[0],
                    installment_count=count,
                    frequency=PaymentPlan.Frequency.MONTHLY,
                    start_date=start,
                    created_at=self.now - timedelta(days=rng.randint(1, 20)),
                )
            )
            schedules.append(amounts)
        plans = PaymentPlan.objects.bulk_create(plans, batch_size=1000)
        installments = [
            Installment(
                office=self.office,
                plan=plan,
                sequence=seq,
                due_date=plan.start_date + timedelta(days=30 * (seq - 1)),
                amount=amount,
            )
            for plan, amounts in zip(plans, schedules, strict=True)
            for seq, amount in enumerate(amounts, start=1)
        ]
        Installment.objects.bulk_create(installments, batch_size=2000)

    def _notices(self, accounts):
        """Third-party agencies send the Regulation F validation notice first (F-VN)."""
        if self.office.collector_type != Office.CollectorType.THIRD_PARTY:
            return
        notices = []
        for account in accounts:
            sent = account.placed_at + timedelta(days=2)
            received, ends = validation_period(sent.date())
            notices.append(ValidationNotice(
                office=self.office, account=account, channel="letter", sent_at=sent,
                assumed_received_on=received, period_ends_on=ends,
            ))  # fmt: skip
        ValidationNotice.objects.bulk_create(notices, batch_size=2000)

    def _disputes(self, accounts):
        for account in accounts:
            received = account.status_changed_at
            hold = Hold.objects.create(
                office=self.office,
                kind=Hold.Kind.DISPUTE,
                scope=Hold.Scope.ACCOUNT,
                debtor_id=account.debtor_id,
                account=account,
                source=Source.DEBTOR,
                reason="Debtor disputes the amount",
                effective_from=received,
            )
            Dispute.objects.create(
                office=self.office,
                account=account,
                debtor_id=account.debtor_id,
                received_at=received,
                received_via="portal",
                reason="Amount is wrong",
                hold=hold,
            )

    def _work(self, accounts):
        rng = self.rng
        today = timezone.localdate()
        items = []
        agent = self.users[Role.AGENT]
        open_accounts = [a for a in accounts if a.status in ("active", "in_plan", "new")]
        for account in rng.sample(open_accounts, k=min(25, len(open_accounts))):
            due = datetime.combine(
                today + timedelta(days=rng.randint(-2, 5)),
                time(rng.randint(9, 17)),
                tzinfo=timezone.get_current_timezone(),
            )
            kind = rng.choice(
                [
                    WorkItem.Kind.CALLBACK,
                    WorkItem.Kind.FOLLOW_UP,
                    WorkItem.Kind.REVIEW,
                    WorkItem.Kind.INBOX,
                ]
            )
            items.append(
                WorkItem(
                    office=self.office,
                    kind=kind,
                    account=account,
                    assignee=agent if rng.random() < 0.7 else None,
                    due_at=due,
                    title={
                        "callback": "Call back about plan options",
                        "follow_up": "Follow up on promise to pay",
                        "review": "Review custom plan request",
                        "inbox": "Reply to debtor's message",
                    }[kind],
                )
            )
        WorkItem.objects.bulk_create(items)
