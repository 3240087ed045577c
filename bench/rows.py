"""Small shared pieces: seeds, the random generator, and CSV field formatting.

Money is integer cents until a row is written; times are integer seconds since the epoch
(UTC). Text fields are quoted (`q`, `qc`) so an empty string is never read as NULL.
"""

import datetime as dt
from bisect import bisect_right
from random import Random

DAY = 86400
MASK = (1 << 64) - 1


class Rng(Random):
    """`random.Random` with cheaper draws for the hot paths (one `random()` each)."""

    def below(self, n):
        return int(self.random() * n)

    def between(self, a, b):
        return a + int(self.random() * (b - a + 1))

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def weighted(self, seq, cum):
        return seq[bisect_right(cum, self.random() * cum[-1])]


def mix(*parts):
    """A 64-bit seed from integers (splitmix-style), stable across runs and platforms."""
    h = 0x243F6A8885A308D3
    for p in parts:
        h = (h ^ (p & MASK)) * 0x9E3779B97F4A7C15 & MASK
        h ^= h >> 31
        h = h * 0xBF58476D1CE4E5B9 & MASK
        h ^= h >> 29
    return h


# --- formatting ---------------------------------------------------------------------
_DAYS = {}


def day_str(day):
    s = _DAYS.get(day)
    if s is None:
        s = _DAYS[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
    return s


_TIME_OF_DAY = [
    f"{h:02d}:{m:02d}:{s:02d}+00" for h in range(24) for m in range(60) for s in range(60)
]


def ts_str(ts):
    day, rest = divmod(ts, DAY)
    return f"{_DAYS.get(day) or day_str(day)} {_TIME_OF_DAY[rest]}"


def money(cents):
    if cents < 0:
        return f"-{-cents // 100}.{-cents % 100:02d}"
    return f"{cents // 100}.{cents % 100:02d}"


def q(text):
    """A CSV field that is a string (never NULL, even when empty)."""
    return '"' + text.replace('"', '""') + '"'


_QUOTED = {}


def qc(text):
    """`q` for the few distinct strings that repeat (summaries, codes, names)."""
    s = _QUOTED.get(text)
    if s is None:
        s = _QUOTED[text] = '"' + text.replace('"', '""') + '"'
    return s


def opt(value):
    """An optional CSV field: empty means NULL."""
    return "" if value is None else str(value)


def json_list(items):
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"
