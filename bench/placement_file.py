"""A creditor's placement file for `bench import`: N rows of CSV, written streaming.

Realistic and a little messy, like the files creditors send: real ZIPs, cities and area
codes (exchange 555, emails on `.example`, so no row can reach a real person); names
with accents; amounts with `$` and thousands separators; dates as MM/DD/YYYY. About one
row in eight is another account of a person placed earlier in the file (same customer
ID, same identity), so debtor matching works across chunks; `bad_every` rows (default
one in 500) carry a charge-off date in the future, which validation must reject.

Deterministic for a seed. Memory stays flat: rows are written as they are made.
"""

import csv
import unicodedata
from bisect import bisect_right

from bench import data
from bench.rows import Rng, mix

HEADER = [
    "Account Number", "Customer ID", "First Name", "Middle Name", "Last Name",
    "Date of Birth", "SSN", "Address", "Address 2", "City", "State", "ZIP", "Phone",
    "Alt Phone", "Email", "Principal", "Interest", "Fees", "Total Balance", "Open Date",
    "Charge-off Date", "Last Payment Date", "Original Creditor",
]  # fmt: skip


def _money(cents):
    return f"${cents // 100:,}.{cents % 100:02d}"


def _mdy(year, month, day):
    return f"{month:02d}/{day:02d}/{year}"


def _person(r, states, cum, zips):
    spanish = r.random() < 0.15
    first = r.pick(data.HISPANIC_FIRST_NAMES if spanish else data.FIRST_NAMES)
    last = r.pick(data.HISPANIC_LAST_NAMES if spanish else data.LAST_NAMES)
    middle = chr(65 + r.below(26)) if r.random() < 0.5 else ""
    dob = _mdy(r.between(1950, 2002), r.between(1, 12), r.between(1, 28))
    ssn = f"{r.between(1, 9999):04d}" if r.random() < 0.93 else ""
    state = states[bisect_right(cum, r.random() * cum[-1])]
    zip5, city, _zones, codes = r.pick(zips[state])
    line1 = f"{r.between(1, 9899)} {r.pick(data.STREETS)} {r.pick(data.STREET_SUFFIXES)}"
    line2 = f"Apt {r.between(1, 40)}" if r.random() < 0.15 else ""
    codes = [c for c in codes if len(c) == 3 and c.isdigit() and c[0] in "23456789"] or ["212"]
    phone = f"({r.pick(codes)}) 555-{r.between(100, 9999):04d}" if r.random() < 0.85 else ""
    alt = f"{r.pick(codes)}.555.{r.between(100, 9999):04d}" if r.random() < 0.25 else ""
    email = ""
    if r.random() < 0.6:
        domain = r.pick(data.EMAIL_DOMAINS)[0]
        local = unicodedata.normalize("NFKD", f"{first[0]}.{last}{r.between(1, 999)}")
        local = local.encode("ascii", "ignore").decode().replace("'", "")
        email = f"{local}@{domain}"
    return [first, middle, last, dob, ssn, line1, line2, city, state, zip5, phone, alt, email]


def write_placement_file(path, rows, *, seed=20240601, bad_every=500, repeat_share=0.125):
    """Write a CSV placement file of `rows` data rows to `path`. Returns the number of
    rows meant to be rejected (future charge-off dates)."""
    zips = data.zip_table()
    states = sorted(s for s in data.STATE_POPULATION if zips.get(s))
    cum, total = [], 0
    for s in states:
        total += data.STATE_POPULATION[s]
        cum.append(total)
    bad = 0
    people = []  # (customer id, person cells) of earlier rows, bounded
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(1, rows + 1):
            r = Rng(mix(seed, 9, i))
            if people and r.random() < repeat_share:
                customer, person = people[r.below(len(people))]
            else:
                customer = f"C{i:08d}"
                person = _person(r, states, cum, zips)
                if len(people) < 50_000:
                    people.append((customer, person))
                else:
                    people[r.below(len(people))] = (customer, person)
            principal = r.between(2_000, 900_000)
            interest = r.between(0, principal // 10) if r.random() < 0.4 else 0
            fees = r.between(0, 5_000) if r.random() < 0.3 else 0
            opened = r.between(2012, 2021)
            charged_off = opened + r.between(1, 3)
            if bad_every and i % bad_every == 0:
                charged_off, bad = 2099, bad + 1
            out.writerow(
                [
                    f"ACC-{seed % 1000:03d}-{i:09d}",
                    customer,
                    *person[:2],
                    person[2] + (" " if r.random() < 0.05 else ""),  # Excel's trailing space
                    *person[3:],
                    _money(principal),
                    _money(interest) if interest else "",
                    _money(fees) if fees else "",
                    _money(principal + interest + fees),
                    _mdy(opened, r.between(1, 12), r.between(1, 28)),
                    _mdy(charged_off, r.between(1, 12), r.between(1, 28)),
                    _mdy(opened + 1, r.between(1, 12), r.between(1, 28))
                    if r.random() < 0.2
                    else "",
                    r.pick(data.CREDITORS)["name"] if r.random() < 0.3 else "",
                ]
            )
    return bad
