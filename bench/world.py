"""The world every worker shares: creditors, placements, staff, and which debtor owes
which account. Built once by the parent before the pool forks; the children inherit it.
"""

from array import array
from bisect import bisect_right
from itertools import accumulate
from random import Random

from bench import data
from bench.rows import json_list, mix
from debtors.timezones import zones_for_phone

# Row kinds that get their ids when a chunk is reserved, in load order.
SPACES = (
    "contactpoint",
    "consent",
    "plan",
    "installment",
    "payment",
    "transaction",
    "event",
    "hold",
    "dispute",
)


class World:
    """What every worker needs, built once by the parent before the pool forks."""

    def __init__(self, *, seed, office_id, as_of_ts, creditors, placements, agents):
        self.seed = seed
        self.office_id = office_id
        self.as_of_ts = as_of_ts
        self.creditors = creditors  # data.CREDITORS entries plus "id"
        # (placement id, creditor index, placed_ts, first account index, count), by time
        self.placements = placements
        self.pl_first = [p[3] for p in placements]
        self.agents = agents
        self.n_accounts = sum(p[4] for p in placements)
        self.account_base = 0
        self.debtor_base = 0
        zips = data.zip_table()
        self.states = sorted(s for s in data.STATE_POPULATION if s in zips)
        self.state_cum = []
        total = 0
        for s in self.states:
            total += data.STATE_POPULATION[s]
            self.state_cum.append(total)
        self.zips = zips
        self.area_codes = data.area_code_states()
        self.email_domains = [d for d, _ in data.EMAIL_DOMAINS]
        self.email_cum = list(accumulate(w for _, w in data.EMAIL_DOMAINS))
        self._phone_zones = {}

    # -- structure: which debtor owes which account --------------------------------
    def build_structure(self):
        """Decide, for every account in placement order, whether it belongs to a new
        debtor or to one already placed (a matched debtor, at most 3 accounts)."""
        n = self.n_accounts
        r = Random(mix(self.seed, 7))
        acc_creditor = bytearray(n)
        for _pid, ci, _ts, first, count in self.placements:
            acc_creditor[first : first + count] = bytes([ci]) * count
        commercial = [c["debt_type"] == "commercial" for c in self.creditors]
        acc_debtor = array("q", bytes(8 * n))
        acc_rank = bytearray(n)
        deb_first = array("q")
        deb_count = bytearray()
        lookback = max(n / 5.0, 1.0)  # matched accounts come about a year apart on average
        random = r.random
        expovariate = r.expovariate
        d_next = 0
        for i in range(n):
            if i and random() < 0.13:
                j = i - 1 - int(expovariate(1.0 / lookback))
                if j >= 0 and commercial[acc_creditor[j]] == commercial[acc_creditor[i]]:
                    d = acc_debtor[j]
                    c = deb_count[d]
                    if c < 3:
                        acc_debtor[i] = d
                        acc_rank[i] = c
                        deb_count[d] = c + 1
                        continue
            acc_debtor[i] = d_next
            deb_first.append(i)
            deb_count.append(1)
            d_next += 1
        self.acc_creditor = acc_creditor
        self.acc_debtor = acc_debtor
        self.acc_rank = acc_rank
        self.deb_first = deb_first
        self.deb_count = deb_count
        self.n_debtors = d_next

    def placement_of(self, i):
        return self.placements[bisect_right(self.pl_first, i) - 1]

    def phone_zones(self, npa):
        # All bench numbers are NPA-555-xxxx and phonenumbers' US zone data goes no
        # deeper than NPA-NXX, so the area code decides the zones exactly.
        zones = self._phone_zones.get(npa)
        if zones is None:
            zones = self._phone_zones[npa] = json_list(zones_for_phone(f"+1{npa}5550100"))
        return zones
