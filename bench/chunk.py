"""A chunk of accounts and its CSV text per table.

Debtor and account rows are CSV as soon as they are made (their ids are numbered up
front); every other row waits as a tuple with a chunk-local number until the chunk's id
ranges are handed out (`Chunk.render`).
"""

from bench.rows import DAY, day_str, money, opt, q, qc, ts_str
from bench.story import simulate_account
from bench.world import SPACES


class Chunk:
    """The rows of accounts [a0, a1): debtors and accounts as CSV already (their ids are
    known), everything else as tuples with chunk-local ids until `render`."""

    def __init__(self, index, a0, a1):
        self.index, self.a0, self.a1 = index, a0, a1
        self.debtors = []
        self.accounts = []
        self.n_accounts = 0
        self.rows = {space: [] for space in SPACES}

    def simulate(self, w):
        for i in range(self.a0, self.a1):
            simulate_account(w, self, i)
        # Events in time order within the chunk, so ids grow with time.
        self.rows["event"].sort(key=_event_key)

    def counts(self):
        return {space: len(rows) for space, rows in self.rows.items()}

    def render(self, w, base):
        """CSV text per table, with real ids (`base[space]` is the first id of this
        chunk's range in that space)."""
        o = w.office_id
        out = {"debtor": "".join(self.debtors), "account": "".join(self.accounts)}
        b = base["contactpoint"]
        out["contactpoint"] = "".join(
            f"{b + n},{o},{deb},{kind},{q(value)},{qc(ptype)},{q(l1)},{q(l2)},{qc(city)},"
            f"{qc(state)},{qc(zip5)},US,{'t' if work else 'f'},{'t' if primary else 'f'},"
            f"{validity},placement,{qc(zones)},{zsrc},{qc(qual)},{opt(qat and ts_str(qat))},"
            f"{opt(consent and ts_str(consent))},{ts_str(created)}\n"
            for n, (
                deb,
                kind,
                value,
                ptype,
                l1,
                l2,
                city,
                state,
                zip5,
                work,
                primary,
                validity,
                zones,
                zsrc,
                qual,
                qat,
                consent,
                created,
            ) in enumerate(self.rows["contactpoint"])
        )
        bc = base["consent"]
        out["consent"] = "".join(
            f"{bc + n},{o},{deb},{b + cp},sms,{kind},{source},{qc(method)},{ts_str(since)},,"
            f"{ts_str(at)}\n"
            for n, (deb, cp, kind, source, method, since, at) in enumerate(self.rows["consent"])
        )
        bp = base["plan"]
        out["plan"] = "".join(
            f"{bp + n},{o},{acc},{status},{money(total)},{money(amount)},{count},{freq},"
            f"{day_str(start)},{'t' if autopay else 'f'},{ts_str(created)},"
            f"{opt(ended and ts_str(ended))}\n"
            for n, (
                acc,
                status,
                total,
                amount,
                count,
                freq,
                start,
                autopay,
                created,
                ended,
            ) in enumerate(self.rows["plan"])
        )
        bi = base["installment"]
        out["installment"] = "".join(
            f"{bi + n},{o},{bp + plan},{seq},{day_str(due)},{money(amount)},{money(paid)},"
            f"{status}\n"
            for n, (plan, seq, due, amount, paid, status) in enumerate(self.rows["installment"])
        )
        bpay = base["payment"]
        key = w.seed
        out["payment"] = "".join(
            f"{bpay + n},{o},{acc},{deb},{opt(inst if inst is None else bi + inst)},"
            f"{money(amount)},USD,{method},{gateway},{ref},{status},bench-{key}-{idem},"
            f"{ts_str(created)},{opt(received and ts_str(received))},{opt(by)}\n"
            for n, (
                acc,
                deb,
                inst,
                amount,
                method,
                gateway,
                ref,
                status,
                idem,
                created,
                received,
                by,
            ) in enumerate(self.rows["payment"])
        )
        bt = base["transaction"]
        out["transaction"] = "".join(
            f"{bt + n},{o},{acc},{kind},{money(p)},{money(i)},{money(f)},USD,"
            f"{day_str(ts // DAY)},{ts_str(ts)},{opt(rev if rev is None else bt + rev)},"
            f"{opt(pay if pay is None else bpay + pay)},{qc(memo)},{opt(by)}\n"
            for n, (acc, kind, p, i, f, ts, pay, rev, memo, by) in enumerate(
                self.rows["transaction"]
            )
        )
        be = base["event"]
        refs = {"payment": bpay, "plan": bp}
        lines = []
        append = lines.append
        for n, (ts, acc, deb, kind, channel, actor, summary, data_, amount, ref) in enumerate(
            self.rows["event"]
        ):
            if ref is not None:
                data_ = f"{data_}{refs[ref[0]] + ref[1]}}}"
                data_q = q(data_)
            else:
                data_q = qc(data_)
            append(
                f"{be + n},{o},{acc},{deb},{kind},{ts_str(ts)},{'' if actor is None else actor},"
                f"{qc(summary)},{data_q},{'' if amount is None else money(amount)},{qc(channel)}\n"
            )
        out["event"] = "".join(lines)
        bh = base["hold"]
        out["hold"] = "".join(
            f"{bh + n},{o},{kind},{scope},{deb},{opt(acc)},{source},{qc(reason)},{ts_str(since)},"
            f"{opt(until and ts_str(until))},{opt(by)}\n"
            for n, (kind, scope, deb, acc, source, reason, since, until, by) in enumerate(
                self.rows["hold"]
            )
        )
        bd = base["dispute"]
        out["dispute"] = "".join(
            f"{bd + n},{o},{acc},{deb},{ts_str(received)},{via},{'t' if partial else 'f'},"
            f"{qc(reason)},{'t' if within else 'f'},{status},{opt(sent and ts_str(sent))},"
            f"{bh + hold}\n"
            for n, (
                acc,
                deb,
                received,
                via,
                partial,
                within,
                sent,
                status,
                hold,
                reason,
            ) in enumerate(self.rows["dispute"])
        )
        return out


def _event_key(row):
    return row[0]
