"""Debtors: who they are, how to reach them, and their rows.

Debtor `d` is a pure function of the seed and `d` (`Rng(mix(seed, 1, d))`), so the
chunk of any of its accounts can rebuild it (the payment model needs its features);
its rows are written, encrypted and blind-indexed, only in the chunk of its first
account.
"""

from bisect import bisect_right
from functools import cache

from bench import data
from bench.rows import DAY, Rng, day_str, mix, q, qc, ts_str
from recovery.crypto import blind_index, encrypt


@cache
def bidx(*parts):
    """`blind_index` of values that repeat across debtors (a last name, a date of birth,
    four digits): the same function, computed once per distinct value."""
    return blind_index(*parts)


class Debtor:
    __slots__ = (
        "d",
        "id",
        "created_ts",
        "business",
        "first",
        "middle",
        "last",
        "business_name",
        "dob",
        "ssn4",
        "language",
        "state",
        "has_email",
        "has_mobile",
        "has_address",
        "has_phone",
        "sms_ok_until",
        "hold",
        "contacts",
    )


def make_debtor(w, d):
    """Debtor `d` with its contact points and circumstances (no encryption: that happens
    only when its row is written, in the chunk of its first account)."""
    r = Rng(mix(w.seed, 1, d))
    random = r.random
    first_acc = w.deb_first[d]
    placed_ts = w.placement_of(first_acc)[2]
    deb = Debtor()
    deb.d = d
    deb.id = w.debtor_base + d
    deb.created_ts = placed_ts
    deb.business = w.creditors[w.acc_creditor[first_acc]]["debt_type"] == "commercial"
    if deb.business:
        deb.first = deb.middle = deb.last = ""
        deb.business_name = (
            f"{r.pick(data.BUSINESS_WORDS)} {r.pick(data.BUSINESS_TRADES)} "
            f"{r.pick(data.BUSINESS_FORMS)}"
        )
        deb.dob = deb.ssn4 = ""
        deb.language = "en"
    else:
        spanish = random() < 0.09
        deb.language = "es" if spanish else "en"
        hispanic = spanish or random() < 0.08
        deb.first = r.pick(data.HISPANIC_FIRST_NAMES if hispanic else data.FIRST_NAMES)
        deb.last = r.pick(data.HISPANIC_LAST_NAMES if hispanic else data.LAST_NAMES)
        deb.middle = chr(65 + r.below(26)) if random() < 0.55 else ""
        deb.business_name = ""
        age_days = int(r.triangular(21, 86, 38) * 365.25)
        deb.dob = day_str(w.as_of_ts // DAY - age_days - r.below(365))
        deb.ssn4 = f"{r.between(1, 9999):04d}" if random() < 0.93 else ""

    # Address: state by population, a real ZIP of that state.
    contacts = []
    state = None
    home_codes = ()
    deb.has_address = False
    if random() < (0.98 if deb.business else 0.95):
        state = w.states[bisect_right(w.state_cum, random() * w.state_cum[-1])]
        zip5, city, zones, home_codes = r.pick(w.zips[state])
        validity = "valid" if random() < 0.64 else "unverified" if random() < 0.87 else "returned"
        deb.has_address = validity != "returned"
        line1 = f"{r.between(1, 9899)} {r.pick(data.STREETS)} {r.pick(data.STREET_SUFFIXES)}"
        u = random()
        if deb.business and u < 0.4:
            line2 = f"Suite {r.between(100, 900)}"
        elif u < 0.15:
            line2 = f"Apt {r.between(1, 40)}{'ABCD'[r.below(4)]}"
        else:
            line2 = ""
        contacts.append((line1, line2, city, state, zip5, zones, validity, True))
        if random() < 0.08:  # an older address, since moved away from
            old_state = w.states[bisect_right(w.state_cum, random() * w.state_cum[-1])]
            ozip, ocity, ozones, _oc = r.pick(w.zips[old_state])
            street = f"{r.pick(data.STREETS)} {r.pick(data.STREET_SUFFIXES)}"
            ovalid = "returned" if random() < 0.6 else "unverified"
            line = f"{r.between(1, 9899)} {street}"
            contacts.append((line, "", ocity, old_state, ozip, ozones, ovalid, False))

    # Phones: real area codes (mostly the home ZIP's), exchange 555.
    u = random()
    n_phones = 0 if u < 0.15 else 1 if u < 0.70 else 2
    deb.has_mobile = deb.has_phone = False
    deb.sms_ok_until = None
    phones = []
    for k in range(n_phones):
        if home_codes and random() < 0.75:
            npa = r.pick(home_codes)
        else:
            npa, _st = r.pick(w.area_codes)
            if state is None and k == 0:
                state = _st
        line = r.between(100, 9999)
        number = f"+1{npa}555{line:04d}"
        if any(p[0] == number for p in phones):
            continue
        v = random()
        ptype = (
            ("mobile" if v < 0.68 else "landline" if v < 0.95 else "voip")
            if k == 0
            else ("mobile" if v < 0.40 else "landline" if v < 0.90 else "voip")
        )
        v = random()
        validity = (
            "valid"
            if v < 0.60
            else "unverified"
            if v < 0.92
            else "disconnected"
            if v < 0.98
            else "invalid"
        )
        reachable = validity in ("valid", "unverified")
        deb.has_phone = deb.has_phone or reachable
        consent = ptype == "mobile" and reachable and random() < 0.7
        if ptype == "mobile" and reachable:
            deb.has_mobile = True
        is_work = k == 1 and random() < 0.3
        phones.append((number, npa, ptype, validity, consent, is_work))
        if consent and deb.sms_ok_until is None:
            # An SMS consent, and sometimes a later STOP that ends it.
            deb.sms_ok_until = (
                deb.created_ts + r.between(10, 400) * DAY if random() < 0.04 else 1 << 62
            )
    deb.state = state

    # Email: the reserved .example domain.
    deb.has_email = False
    email = None
    if random() < (0.80 if deb.business else 0.58):
        domain = r.weighted(w.email_domains, w.email_cum)
        if deb.business:
            local = r.pick(["billing", "office", "accounts", "info", "owner"])
            domain = (
                deb.business_name.split()[0].lower()
                + r.pick(data.BUSINESS_TRADES).lower()
                + ".example"
            )
        else:
            style = r.below(4)
            first, last = deb.first.lower(), deb.last.lower().replace("'", "")
            local = (
                f"{first}.{last}"
                if style == 0
                else f"{first[0]}{last}{r.between(1, 99)}"
                if style == 1
                else f"{first}{last[0]}{r.between(1950, 2005)}"
                if style == 2
                else f"{first}_{last}{r.between(1, 9)}"
            )
        v = random()
        validity = "valid" if v < 0.70 else "unverified" if v < 0.95 else "bounced"
        deb.has_email = validity != "bounced"
        qv = random()
        qual = (
            "used_by_debtor"
            if qv < 0.35
            else "consented"
            if qv < 0.50
            else "creditor_notice"
            if qv < 0.70
            else ""
        )
        email = (local, domain, validity, qual)

    # A circumstance that stops collection on every account of the debtor.
    deb.hold = None
    v = random()
    if v < 0.006:
        deb.hold = ("bankruptcy", deb.created_ts + r.between(20, 900) * DAY)
    elif v < 0.009:
        deb.hold = ("attorney", deb.created_ts + r.between(10, 600) * DAY)
    elif v < 0.011:
        deb.hold = ("deceased", deb.created_ts + r.between(30, 1200) * DAY)

    deb.contacts = (contacts, phones, email)
    return deb


def debtor_rows(w, deb, r, ch):
    """The debtor row (encrypted, blind-indexed) and its contact points and consents."""
    dob_enc = encrypt(deb.dob) if deb.dob else ""
    ssn_enc = encrypt(deb.ssn4) if deb.ssn4 else ""
    dob_bidx = bidx(deb.dob) if deb.dob else ""
    ssn_bidx = bidx(deb.ssn4) if deb.ssn4 else ""
    last_bidx = bidx(deb.last) if deb.last else ""
    match = blind_index(deb.last, deb.dob, deb.ssn4) if deb.last and deb.dob and deb.ssn4 else ""
    created = ts_str(deb.created_ts)
    ch.debtors.append(
        f"{deb.id},{w.office_id},{'business' if deb.business else 'person'},{qc(deb.first)},"
        f"{qc(deb.middle)},{qc(deb.last)},{q(deb.business_name)},{q(dob_enc)},{q(ssn_enc)},"
        f"{q(dob_bidx)},{q(ssn_bidx)},{q(last_bidx)},{q(match)},{deb.language},{created}\n"
    )
    contacts, phones, email = deb.contacts
    cps = ch.rows["contactpoint"]
    for line1, line2, city, state, zip5, zones, validity, primary in contacts:
        value = ", ".join(p for p in (line1, line2, city, f"{state} {zip5}") if p)
        source = "zip" if zones != "[]" else "unknown"
        cps.append(
            (
                deb.id,
                "address",
                value,
                "",
                line1,
                line2,
                city,
                state,
                zip5,
                False,
                primary,
                validity,
                zones,
                source,
                "",
                None,
                None,
                deb.created_ts,
            )
        )
    opted_out = False
    for k, (number, npa, ptype, validity, consent, is_work) in enumerate(phones):
        zones = w.phone_zones(npa)
        source = "area_code" if zones != "[]" else "unknown"
        cp_local = len(cps)
        cps.append(
            (
                deb.id,
                "phone",
                number,
                ptype,
                "",
                "",
                "",
                "",
                "",
                is_work,
                k == 0,
                validity,
                zones,
                source,
                "",
                None,
                deb.created_ts if consent else None,
                deb.created_ts,
            )
        )
        if consent:
            ch.rows["consent"].append(
                (
                    deb.id,
                    cp_local,
                    "consent",
                    "placement",
                    "Creditor application",
                    deb.created_ts,
                    deb.created_ts,
                )
            )
            if not opted_out and deb.sms_ok_until < w.as_of_ts:
                opted_out = True  # the STOP reply came from the first consented mobile
                ch.rows["consent"].append(
                    (
                        deb.id,
                        cp_local,
                        "opt_out",
                        "sms_reply",
                        "STOP reply",
                        deb.sms_ok_until,
                        deb.sms_ok_until,
                    )
                )
    if email:
        local, domain, validity, qual = email
        qualified_at = deb.created_ts + r.between(0, 3) * DAY if qual else None
        cps.append(
            (
                deb.id,
                "email",
                f"{local}@{domain}",
                "",
                "",
                "",
                "",
                "",
                "",
                False,
                True,
                validity,
                "[]",
                "unknown",
                qual,
                qualified_at,
                None,
                deb.created_ts,
            )
        )
    if deb.hold and deb.hold[1] < w.as_of_ts:
        kind, since = deb.hold
        reason = {
            "bankruptcy": "Chapter 7 bankruptcy filed",
            "attorney": "Represented by an attorney",
            "deceased": "Reported deceased",
        }[kind]
        ch.rows["hold"].append(
            (
                kind,
                "debtor",
                deb.id,
                None,
                "court" if kind == "bankruptcy" else "agent",
                reason,
                since,
                None,
                None,
            )
        )
