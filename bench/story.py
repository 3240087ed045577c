"""One account's life: the debt as placed, outreach, pauses and stops, payments, plans,
the ledger, the timeline, and its row.

Account `i` is a pure function of the seed and `i` (`Rng(mix(seed, 2, i))`), given
its debtor (bench.people) and the world (bench.world). Rows that get their ids later
(ledger, payments, events, …) are appended to the chunk with chunk-local numbers.
"""

from itertools import accumulate
from math import exp, log

from bench.model import payment_logit
from bench.people import debtor_rows, make_debtor
from bench.rows import DAY, Rng, day_str, mix, money, opt, qc, ts_str

OUTCOMES = ("no_answer", "voicemail", "right_party", "wrong_party", "busy")
OUTCOME_CUM = tuple(accumulate((45, 30, 15, 5, 5)))
METHODS = ("card", "ach", "check", "money_order", "transfer", "check_by_phone")
METHOD_CUM = tuple(accumulate((45, 30, 10, 3, 4, 8)))
FREQUENCIES = ("monthly", "biweekly", "weekly")
FREQUENCY_CUM = tuple(accumulate((70, 20, 10)))
LABEL = {
    "new": "New",
    "active": "Active",
    "in_plan": "In payment plan",
    "disputed": "Disputed",
    "on_hold": "On hold",
    "paid": "Paid in full",
    "settled": "Settled",
    "closed": "Closed",
    "recalled": "Recalled by creditor",
    "legal": "Legal",
}


class Story:
    """One account's life: ledger, payments, plan, events, status."""

    def __init__(self, w, ch, i, r, cr, deb, agent):
        self.w, self.ch, self.i, self.r, self.cr, self.deb = w, ch, i, r, cr, deb
        self.agent = agent
        self.t0 = w.placement_of(i)[2]
        self.state, self.state_ts = "new", self.t0
        self.account_id = w.account_base + i
        self.bal = {"principal": 0, "interest": 0, "fees": 0}
        self.collected = 0
        self.events = ch.rows["event"]
        self.last_paid_day = None

    # -- ledger --------------------------------------------------------------------
    def tx(self, ts, kind, p, i, f, memo, payment=None, reverses=None, by=None):
        rows = self.ch.rows["transaction"]
        rows.append((self.account_id, kind, p, i, f, ts, payment, reverses, memo, by))
        b = self.bal
        b["principal"] += p
        b["interest"] += i
        b["fees"] += f
        return len(rows) - 1

    def balance(self):
        b = self.bal
        return b["principal"] + b["interest"] + b["fees"]

    def event(self, ts, kind, summary, *, channel="", actor=None, data="{}", amount=None, ref=None):
        # ref: (space, local id) whose real id is appended to `data` at render time.
        self.events.append(
            (ts, self.account_id, self.deb.id, kind, channel, actor, summary, data, amount, ref)
        )

    def status(self, ts, to, reason=""):
        frm = self.state
        if to == frm:
            return
        self.state = to
        self.state_ts = ts
        self.event(
            ts,
            "status_changed",
            f"{LABEL[frm]} → {LABEL[to]}",
            data=f'{{"from": "{frm}", "to": "{to}", "reason": "{reason}"}}',
        )

    def pay(self, ts, amount, method, *, installment=None, via_call=False):
        """A successful payment, allocated by the creditor's order. Returns its local ids."""
        r = self.r
        amount = min(amount, self.balance())
        if amount <= 0:
            return None
        parts = {"principal": 0, "interest": 0, "fees": 0}
        left = amount
        for comp in self.cr["allocation"]:
            take = min(left, self.bal[comp])
            parts[comp] = -take
            left -= take
        gateway = "stripe" if method in ("card", "ach") else "offline"
        if gateway == "stripe":
            ref = f"pi_{r.getrandbits(96):024x}"
            by = None
        else:
            ref = f"{'CHK' if 'check' in method else 'TRN'}{r.between(1000, 999999)}"
            by = self.agent or r.pick(self.w.agents)
        payments = self.ch.rows["payment"]
        if method == "card" and r.random() < 0.04:  # a declined attempt first
            payments.append(
                [
                    self.account_id,
                    self.deb.id,
                    installment,
                    amount,
                    method,
                    gateway,
                    f"pi_{r.getrandbits(96):024x}",
                    "failed",
                    f"{self.i}-{len(payments)}",
                    ts - 600,
                    None,
                    None,
                ]
            )
        pay_local = len(payments)
        payments.append(
            [
                self.account_id,
                self.deb.id,
                installment,
                amount,
                method,
                gateway,
                ref,
                "succeeded",
                f"{self.i}-{pay_local}",
                ts,
                ts,
                by,
            ]
        )
        tx_local = self.tx(
            ts,
            "payment",
            parts["principal"],
            parts["interest"],
            parts["fees"],
            "Payment received",
            payment=pay_local,
            by=by,
        )
        self.collected += amount
        self.last_paid_day = ts // DAY
        channel = "call" if via_call or gateway == "offline" else "portal"
        self.event(
            ts,
            "payment",
            "Payment received",
            channel=channel,
            amount=amount,
            data=f'{{"method": "{method}", "payment_id": ',
            ref=("payment", pay_local),
        )
        return pay_local, tx_local

    def reverse(self, ts, pay_local, tx_local):
        rows = self.ch.rows["transaction"]
        _acc, _k, p, i, f, _ts, _pay, _rev, _memo, _by = rows[tx_local]
        self.tx(
            ts, "reversal", -p, -i, -f, "Returned payment", payment=pay_local, reverses=tx_local
        )
        amount = -(p + i + f)
        self.collected -= amount
        self.ch.rows["payment"][pay_local][7] = "reversed"
        self.event(
            ts,
            "reversal",
            "Payment returned",
            amount=amount,
            data='{"reason": "nsf", "payment_id": ',
            ref=("payment", pay_local),
        )


def simulate_account(w, ch, i):
    r = Rng(mix(w.seed, 2, i))
    random = r.random
    pl_id, ci, t0, _first, _count = w.placement_of(i)
    cr = w.creditors[ci]
    now = w.as_of_ts
    rank = w.acc_rank[i]
    deb = make_debtor(w, w.acc_debtor[i])
    if rank == 0:
        debtor_rows(w, deb, r, ch)
    agent = r.pick(w.agents) if w.agents and random() < 0.65 else None
    st = Story(w, ch, i, r, cr, deb, agent)

    # --- the debt as placed ---------------------------------------------------------
    median, spread = cr["balance"]
    dollars = min(max(r.lognormvariate(log(median), spread), 25.0), 250_000.0)
    principal0 = int(dollars * 100)
    lo, hi = cr["age"]
    age_years = lo + (hi - lo) * random() ** 1.6
    placed_day = t0 // DAY
    charge_off_day = placed_day - int(age_years * 365.25) - r.below(7)
    years_before = r.uniform(0.05, 0.6) if cr["sector"] == "medical" else r.uniform(0.5, 8.0)
    origination_day = charge_off_day - int(years_before * 365.25)
    pre_payment_day = charge_off_day - r.between(20, 200) if random() < 0.7 else None
    interest_type, rate_text = cr["interest"]
    rate = float(rate_text)
    interest0 = 0
    if interest_type == "simple":
        interest0 = int(principal0 * rate / 100 * min(age_years, 3.0) * r.uniform(0.5, 1.0))
    fees0 = 0
    if random() < cr["fee_share"]:
        fees0 = min(r.pick((2500, 3500, 3900, 5000, 7500)), principal0 // 3)
    payments_since = int(principal0 * r.uniform(0.02, 0.15)) if random() < 0.10 else 0
    credits_since = min(r.between(500, 5000), principal0 // 10) if random() < 0.03 else 0
    open_principal = principal0 - payments_since - credits_since
    total_placed = open_principal + interest0 + fees0
    st.tx(t0, "charge", open_principal, interest0, fees0, "Balance at placement")

    # --- the payment model ----------------------------------------------------------
    intensive = random() < 0.3
    z = payment_logit(
        total_cents=total_placed,
        age_years=age_years,
        has_email=deb.has_email,
        has_mobile=deb.has_mobile,
        has_address=deb.has_address,
        sector_effect=cr["effect"],
        state=deb.state,
        prior_accounts=rank,
        intensive=intensive,
    )
    payer = random() < 1.0 / (1.0 + exp(-z))
    first_pay = None
    if payer:
        delay = (2 + r.expovariate(1 / 45.0)) * DAY
        first_pay = t0 + int(delay) + r.between(13 * 3600, 23 * 3600)

    strategy = "intensive" if intensive else "standard"
    st.event(
        t0,
        "placed",
        f"Placed by {cr['name']}",
        amount=total_placed,
        data=f'{{"placement_id": {pl_id}, "strategy": "{strategy}"}}',
    )
    if agent:
        st.event(
            t0 + r.between(600, 2 * DAY),
            "assigned",
            "Assigned to an agent",
            data=f'{{"agent_id": {agent}}}',
        )

    # --- what stops collection for good (the earliest wins) ----------------------------
    stops = []  # (ts, status, reason)
    if deb.hold:
        stops.append((max(deb.hold[1], t0 + 3600), "on_hold", deb.hold[0]))
    if random() < 0.06:
        stops.append((t0 + r.between(150 * DAY, 720 * DAY), "recalled", "creditor_recall"))
    if not payer:
        if (
            total_placed > 500_000
            and cr["sector"] in ("credit_card", "auto", "personal_loan", "commercial")
            and random() < 0.2
        ):
            stops.append((t0 + r.between(200 * DAY, 420 * DAY), "legal", "suit_filed"))
        elif random() < 0.75:
            stops.append((t0 + r.between(540 * DAY, 900 * DAY), "closed", "exhausted"))
    stop_ts = min([s[0] for s in stops] + [now])

    # --- what pauses it: a dispute or a hardship hold, before any payment ---------------
    dispute = hardship = None
    u = random()
    if u < 0.035:
        start = t0 + r.between(5 * DAY, 50 * DAY) if u < 0.025 else t0 + r.between(10, 300) * DAY
        ends = start + (r.between(20, 90) if u < 0.025 else r.between(60, 120)) * DAY
        if start < stop_ts and (first_pay is None or start < first_pay):
            v = random()
            if ends >= now or ends >= stop_ts or (u < 0.025 and v >= 0.85):
                ends = None  # still paused (today, or when collection stopped for good)
            if u < 0.025:
                outcome = "verified" if v < 0.6 else "closed"
                dispute = (start, ends, outcome)
                if ends and outcome == "closed":
                    stops.append((ends, "closed", "dispute_unverified"))
            else:
                hardship = (start, ends)
            pause_end = ends or now
            if first_pay is not None and first_pay >= start:
                first_pay = max(first_pay, pause_end + r.between(3 * DAY, 30 * DAY))
    stops.sort()
    stop_ts = min([s[0] for s in stops] + [now])
    if first_pay is not None and first_pay >= stop_ts:
        first_pay = None
    pause = dispute or hardship

    # --- outreach: a letter, then messages and calls at the cadence's pace ----------------
    channels = []
    if deb.has_email:
        channels += ["email"] * 3
    sms_until = deb.sms_ok_until if deb.has_mobile and deb.sms_ok_until else 0
    if sms_until:
        channels += ["sms"] * 2
    if deb.has_phone:
        channels += ["call"] * 2
    pace = 16.0 if intensive else 28.0
    contact_end = first_pay or stop_ts
    t = t0 + r.between(1, 3) * DAY + r.between(14 * 3600, 22 * 3600)
    first_contact = None
    if t < contact_end and (deb.has_address or deb.has_email):
        if deb.has_address:
            st.event(
                t,
                "letter",
                "Validation notice mailed",
                channel="letter",
                data='{"template": "validation_notice"}',
            )
        else:
            st.event(
                t,
                "message_sent",
                "Validation notice emailed",
                channel="email",
                data='{"template": "validation_notice"}',
            )
        first_contact = t
    t += int((4 + r.expovariate(1 / pace)) * DAY)
    while t < contact_end:
        day = (t - t0) // DAY
        if day > 270:
            break
        if not (pause and pause[0] <= t and (pause[1] is None or t < pause[1])):
            chan = r.pick(channels) if channels else "letter"
            if chan == "sms" and t >= sms_until:
                chan = "email" if deb.has_email else "call" if deb.has_phone else "letter"
            if first_contact is None:
                first_contact = t
            _outreach(st, r, chan, t, agent, strategy)
        gap = (4 + r.expovariate(1 / pace)) if day < 90 else (40 + r.expovariate(1 / 80.0))
        t += int(gap * DAY) + r.between(-3 * 3600, 3 * 3600)
    if sms_until and sms_until < now and rank == 0:
        st.event(
            sms_until,
            "consent",
            "SMS opt-out (STOP)",
            channel="sms",
            data='{"kind": "opt_out", "channel": "sms"}',
        )

    # --- the status path, in time order -------------------------------------------------
    if first_contact is not None and (pause is None or first_contact < pause[0]):
        st.status(first_contact + 60, "active", "first_contact")
    if dispute:
        received, ends, outcome = dispute
        hold_local = len(ch.rows["hold"])
        ch.rows["hold"].append(
            (
                "dispute",
                "account",
                deb.id,
                st.account_id,
                "debtor",
                "Debtor disputes the debt",
                received,
                ends if outcome == "verified" else None,
                agent,
            )
        )
        status = "open" if ends is None else outcome if outcome == "verified" else "resolved"
        ch.rows["dispute"].append(
            (
                st.account_id,
                deb.id,
                received,
                r.pick(("portal", "mail", "phone", "email")),
                random() < 0.2,
                received - t0 <= 35 * DAY,
                ends if status == "verified" else None,
                status,
                hold_local,
                r.pick(("Not my debt", "Amount is wrong", "Already paid", "Need verification")),
            )
        )
        st.event(received, "dispute", "Dispute received", data='{"status": "open"}')
        st.status(received + 60, "disputed", "dispute")
        if ends and outcome == "verified":
            st.event(
                ends,
                "letter",
                "Verification mailed",
                channel="letter",
                data='{"template": "verification"}',
            )
            st.status(ends + 60, "active", "verified")
    if hardship:
        since, ends = hardship
        ch.rows["hold"].append(
            (
                "hardship",
                "account",
                deb.id,
                st.account_id,
                "agent",
                "Hardship forbearance",
                since,
                ends,
                agent,
            )
        )
        st.event(since, "hold", "Hardship hold", data='{"kind": "hardship"}', actor=agent)
        st.status(since + 60, "on_hold", "hardship")
        if ends:
            st.status(ends + 60, "active", "hold_lifted")

    # Interest accrues yearly until something stops it (a plan waives it).
    accrual_end = min(stop_ts, first_pay or stop_ts)
    accrual = t0 + 365 * DAY
    while interest_type == "simple" and accrual < accrual_end:
        amount = int(st.bal["principal"] * rate / 100)
        if amount > 0:
            st.tx(accrual, "interest", 0, amount, 0, "Annual interest")
        accrual += 365 * DAY

    if first_pay:
        if st.state == "new":
            st.status(first_pay - 3600, "active", "debtor_contact")
        _payer_path(st, r, first_pay, stop_ts, z, now)

    for ts, status, reason in stops:
        if ts >= now or st.state in ("paid", "settled"):
            break
        if st.state == "new":
            st.status(ts - 60, "active", "review")
        if status == "legal" and st.state in ("disputed", "on_hold"):
            continue
        if status == "on_hold":
            st.event(ts, "hold", "Collection on hold", data=f'{{"kind": "{reason}"}}')
        elif status == "legal":
            st.event(ts, "escalated", "Referred to counsel", data='{"to": "legal"}')
        if status == "on_hold" and st.state == "legal":
            continue
        st.status(ts, status, reason)
        if status != "legal":
            break

    # --- the account row ------------------------------------------------------------
    b = st.bal
    resolved = st.state_ts if st.state in ("paid", "settled") else None
    last_payment_day = st.last_paid_day if st.last_paid_day is not None else pre_payment_day
    if st.state in ("new", "active") and not (deb.has_address or deb.has_phone):
        tags = '["skip_trace"]'
    elif hardship:
        tags = '["hardship"]'
    else:
        tags = "[]"
    state = deb.state or cr["home_state"]
    law = cr["home_state"] if cr["sector"] == "credit_card" and random() < 0.7 else state
    original = r.pick(cr["originals"]) if cr["originals"] else cr["name"]
    creditor_ref = f"{cr['reference']}{(i * 7919 + 104729) % 10**10:010d}"
    ch.accounts.append(
        f"{st.account_id},{w.office_id},{cr['id']},{pl_id},{deb.id},{creditor_ref},"
        f"B{i + 1:08d},{qc(original)},{r.below(10000):04d},{cr['debt_type']},{law},USD,"
        f"{day_str(origination_day)},{day_str(charge_off_day)},"
        f"{'' if last_payment_day is None else day_str(last_payment_day)},"
        f"{day_str(charge_off_day)},{money(principal0)},{money(interest0)},{money(fees0)},"
        f"{money(payments_since)},{money(credits_since)},{money(b['principal'])},"
        f"{money(b['interest'])},{money(b['fees'])},{money(total_placed)},{money(st.collected)},"
        f"{interest_type},{rate_text},{st.state},{ts_str(st.state_ts)},{opt(agent)},"
        f"{qc(tags)},{ts_str(t0)},{'' if resolved is None else ts_str(resolved)}\n"
    )
    ch.n_accounts += 1


def _outreach(st, r, chan, t, agent, strategy):
    cadence = f'"cadence": "{strategy}"'
    if chan == "call":
        outcome = r.weighted(OUTCOMES, OUTCOME_CUM)
        st.event(
            t,
            "call",
            f"Outbound call: {outcome.replace('_', ' ')}",
            channel="call",
            actor=agent or r.pick(st.w.agents),
            data=f'{{"outcome": "{outcome}"}}',
        )
    elif chan == "letter":
        st.event(
            t, "letter", "Reminder letter mailed", channel="letter", data='{"template": "reminder"}'
        )
    elif r.random() < 0.03:
        rule = r.pick(("quiet_hours", "frequency_cap", "holiday"))
        st.event(
            t,
            "message_blocked",
            f"{chan.upper() if chan == 'sms' else 'Email'} blocked",
            channel=chan,
            data=f'{{"rule": "{rule}", {cadence}}}',
        )
    else:
        label = "SMS" if chan == "sms" else "Email"
        st.event(
            t,
            "message_sent",
            f"{label} reminder sent",
            channel=chan,
            data=f'{{"template": "reminder", {cadence}}}',
        )
        if r.random() < (0.95 if chan == "sms" else 0.90):
            st.event(t + r.between(2, 300), "message_delivered", f"{label} delivered", channel=chan)


def _payer_path(st, r, t1, end_ts, z, now):
    """Payments from t1 on: in full, settled, by plan or now and then. Returns the time
    the account was resolved (paid or settled), or None."""
    random = r.random
    agent = st.agent
    method = r.weighted(METHODS, METHOD_CUM)
    via_call = random() < 0.35
    balance = st.balance()
    # What the debtor did first: answered, visited the portal, promised.
    if random() < 0.45:
        chan = "sms" if st.deb.has_mobile else "email" if st.deb.has_email else "call"
        st.event(
            max(t1 - r.between(DAY, 6 * DAY), st.t0 + 3600),
            "response",
            "Debtor replied",
            channel=chan,
            data=f'{{"intent": "{r.pick(("will_pay", "asked_options", "asked_amount"))}"}}',
        )  # noqa: E501
    if method in ("card", "ach") and not via_call:
        st.event(t1 - r.between(60, 3600), "portal_visit", "Portal visit", channel="portal")
    if via_call and random() < 0.6:
        when = max(t1 - r.between(2 * DAY, 10 * DAY), st.t0 + 7200)
        st.event(
            when,
            "call",
            "Inbound call: right party",
            channel="call",
            actor=agent or r.pick(st.w.agents),
            data='{"outcome": "right_party"}',
        )
        st.event(
            when + 300,
            "promise",
            "Promise to pay",
            channel="call",
            amount=balance,
            actor=agent or r.pick(st.w.agents),
            data=f'{{"due": "{day_str(t1 // DAY)}"}}',
        )

    p_full = 1.0 / (1.0 + exp(-(2.0 - 1.1 * log(max(balance, 100) / 30_000))))
    u = random()
    if u < p_full:
        mode = "full"
    else:
        v = random()
        mode = "settle" if v < 0.35 else "plan" if v < 0.75 else "partial"

    if mode == "full":
        if balance > 50_000 and random() < 0.25:
            first = st.pay(t1, int(balance * r.uniform(0.3, 0.6)), method, via_call=via_call)
            t2 = t1 + r.between(14 * DAY, 45 * DAY)
            if first and t2 < min(end_ts, now):
                st.pay(t2, st.balance(), method, via_call=via_call)
        else:
            st.pay(t1, balance, method, via_call=via_call)
        if st.balance() == 0:
            st.status(st.ch.rows["transaction"][-1][5], "paid", "paid_in_full")
            return st.state_ts
        return None

    if mode == "settle":
        pct = r.pick((40, 45, 50, 55, 60, 65, 70, 75, 80))
        target = balance * pct // 100
        st.event(
            max(t1 - 3 * DAY, st.t0 + 3600),
            "promise",
            "Settlement accepted",
            data=f'{{"percent": {pct}}}',
            amount=target,
        )
        parts = 1 if random() < 0.7 else r.between(2, 3)
        ts = t1
        for k in range(parts):
            if ts >= min(end_ts, now):
                return None
            amount = target // parts if k < parts - 1 else target - (target // parts) * k
            st.pay(ts, amount, method, via_call=via_call)
            ts += r.between(20 * DAY, 35 * DAY)
        last = st.ch.rows["transaction"][-1][5] + 60
        b = st.bal
        st.tx(
            last, "adjustment", -b["principal"], -b["interest"], -b["fees"], "Settlement discount"
        )
        st.status(last, "settled", "settlement")
        return last

    if mode == "plan":
        return _plan(st, r, t1, end_ts, z, now, method)

    # partial: a few payments now and then
    ts = t1
    for _k in range(r.between(1, 5)):
        if ts >= min(end_ts, now) or st.balance() <= 0:
            break
        ids = st.pay(
            ts, max(int(st.balance() * r.uniform(0.05, 0.2)), 1000), method, via_call=via_call
        )
        back = ts + r.between(3 * DAY, 10 * DAY)
        if ids and random() < 0.03 and back < now:
            st.reverse(back, *ids)
        ts += r.between(20 * DAY, 90 * DAY)
    if st.balance() == 0:
        st.status(st.ch.rows["transaction"][-1][5], "paid", "paid_in_full")
        return st.state_ts
    return None


def _plan(st, r, t1, end_ts, z, now, method):
    random = r.random
    balance = st.balance()
    count = r.pick((3, 4, 6, 6, 8, 10, 12, 12, 18, 24)) if balance > 20_000 else r.pick((2, 3, 4))
    freq = r.weighted(FREQUENCIES, FREQUENCY_CUM)
    step = {"monthly": 30, "biweekly": 14, "weekly": 7}[freq] * DAY
    amount = -(-balance // count)
    start_day = t1 // DAY
    autopay = method in ("card", "ach") and random() < 0.5
    plans = st.ch.rows["plan"]
    plan_local = len(plans)
    plan = [
        st.account_id,
        "active",
        balance,
        amount,
        count,
        freq,
        start_day,
        autopay,
        t1 - 1800,
        None,
    ]
    plans.append(plan)
    st.event(
        t1 - 1800,
        "plan",
        "Payment plan set up",
        amount=amount,
        data=f'{{"installments": {count}, "frequency": "{freq}", "plan_id": ',
        ref=("plan", plan_local),
    )
    st.status(t1 - 1700, "in_plan", "plan")
    p_keep = 0.88 + 0.10 / (1.0 + exp(-z))
    inst_rows = st.ch.rows["installment"]
    first_inst = len(inst_rows)
    left = balance
    broken = False
    for seq in range(1, count + 1):
        due = t1 + (seq - 1) * step
        inst_amount = amount if seq < count else left
        left -= inst_amount
        inst_local = len(inst_rows)
        row = [plan_local, seq, due // DAY, inst_amount, 0, "scheduled"]
        inst_rows.append(row)
        if broken:
            row[5] = "cancelled"
            continue
        if due >= min(end_ts, now) or inst_amount <= 0:
            if due < now:
                row[5] = "cancelled"
            continue
        if seq > 1 and random() < 0.5:
            when = due - 3 * DAY + r.between(0, 3600)
            sms_ok = st.deb.has_mobile and when < (st.deb.sms_ok_until or 0)
            if sms_ok or st.deb.has_email:
                st.event(
                    when,
                    "message_sent",
                    "Installment reminder",
                    channel="sms" if sms_ok else "email",
                    data='{"template": "installment_reminder"}',
                )
        if random() < p_keep:
            ids = st.pay(due + r.between(0, 4 * 3600), inst_amount, method, installment=inst_local)
            row[4] = inst_amount
            row[5] = "paid"
            back = due + r.between(3 * DAY, 8 * DAY)
            if ids and random() < 0.02 and back < now:
                st.reverse(back, *ids)
                row[4] = 0
                row[5] = "missed"
        else:
            row[5] = "missed"
        if row[5] == "missed" and random() < 0.4:
            broken = True
            plan[1] = "broken"
            plan[9] = min(due + 10 * DAY, end_ts - 60, now - 60)
            st.status(plan[9], "active", "plan_broken")
    if broken:
        return None
    if st.balance() == 0:
        plan[1] = "completed"
        plan[9] = st.ch.rows["transaction"][-1][5]
        st.status(plan[9], "paid", "plan_completed")
        return plan[9]
    if any(row[5] == "scheduled" for row in inst_rows[first_inst:]):
        if end_ts < now:  # collection stopped (recall, hold): the plan ends with it
            plan[1] = "cancelled"
            plan[9] = end_ts
            for row in inst_rows[first_inst:]:
                if row[5] == "scheduled":
                    row[5] = "cancelled"
        return None
    # Every installment came due, but a returned payment left a balance.
    plan[1] = "broken"
    plan[9] = min(t1 + count * step, end_ts - 60, now - 60)
    st.status(plan[9], "active", "plan_broken")
    return None
