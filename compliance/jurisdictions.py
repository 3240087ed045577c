"""Jurisdiction profiles: the numbers that differ by place, as data.

Logic that differs lives in the rules; numbers live here. Every limitation-period row
carries its citation; a state without a row is treated as "unknown" — possibly
time-barred — by the rules. This is a product specification, not legal advice: an
office's counsel reviews its profile.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Window:
    """Hours (local, 24h) inside which contact is allowed: [start, end)."""

    start: int = 8
    end: int = 21


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    window: Window = Window()
    # Caps per debt (or per debtor) over a rolling number of days, by channel family.
    caps: dict = field(default_factory=dict)
    # Other periods in days (e.g. how long an oral request lasts).
    days: dict = field(default_factory=dict)
    notes: str = ""


FEDERAL = Profile(
    code="US",
    name="United States (Regulation F / FDCPA)",
    window=Window(8, 21),
    caps={
        # F-7IN7: more than 7 calls in 7 days about a debt is presumed harassment.
        "call_per_debt_7d": 7,
        # F-HARASS: the office's default caps for written channels, per debtor.
        "email_per_debtor_7d": 3,
        "sms_per_debtor_7d": 3,
    },
)

# State overlays (only what differs from federal).
STATES = {
    "MA": Profile(
        code="MA",
        name="Massachusetts (940 CMR 7.04(1)(f), (h); 209 CMR 18.16)",
        caps={"phone_per_debt_7d": 2},  # calls, texts, recorded messages to home/mobile
        # MA-WORK: an oral "don't call me at work" lasts 10 days unless confirmed in
        # writing within 7 (940 CMR 7.04(1)(h)).
        days={"work_oral_request": 10, "work_written_confirmation": 7},
    ),
    "WA": Profile(
        code="WA",
        name="Washington (RCW 19.16.250)",
        caps={"communications_per_debtor_7d": 3},
    ),
}

# New York City: 3 contact attempts per 7 days across channels, written consent for
# email/text — pending, behind the office's switch.
NYC = Profile(code="NYC", name="New York City", caps={"attempts_per_debtor_7d": 3})
NYC_ZIP_PREFIXES = ("100", "101", "102", "103", "104", "111", "112", "113", "114", "116")

INDIA = Profile(code="IN", name="India (RBI fair practices)", window=Window(8, 19))
UK = Profile(code="UK", name="United Kingdom (FCA CONC)", window=Window(8, 21))
# The European Union's member states (ISO 3166-1 alpha-2; Greece is "GR"): the GDPR
# applies to an office established there or a debtor living there (EU-GDPR).
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
})  # fmt: skip
# F-RETAIN: records are kept until 3 years after the last collection activity on a debt.
RETENTION_YEARS = 3

# Where a debtor of a country's office is when nothing on file says otherwise.
DEFAULT_ZONES = {"IN": frozenset({"Asia/Kolkata"}), "GB": frozenset({"Europe/London"})}


@dataclass(frozen=True)
class LimitationPeriod:
    state: str
    years: int
    payment_revives: bool
    citation: str
    time_barred_notice: bool = False


# Consumer-debt (written contract / open account) limitation periods. Only rows with a
# citation; anything else is unknown and handled conservatively.
LIMITATION_PERIODS = {
    row.state: row
    for row in [
        LimitationPeriod("NY", 3, False, "N.Y. C.P.L.R. § 214-i (Consumer Credit Fairness Act)"),
        LimitationPeriod(
            "CA", 4, True, "Cal. Civ. Proc. Code § 337; Cal. Civ. Code § 1788.14(d)",
            time_barred_notice=True,
        ),
        LimitationPeriod("TX", 4, False, "Tex. Civ. Prac. & Rem. Code § 16.004"),
        LimitationPeriod("FL", 5, True, "Fla. Stat. § 95.11(2)(b)"),
        LimitationPeriod("IL", 5, True, "735 ILCS 5/13-205 (unwritten); 5/13-206 (written: 10)"),
        LimitationPeriod("PA", 4, True, "42 Pa. C.S. § 5525"),
        LimitationPeriod("NJ", 6, True, "N.J. Stat. § 2A:14-1"),
        LimitationPeriod("MA", 6, True, "Mass. Gen. Laws ch. 260, § 2"),
        LimitationPeriod("WA", 6, True, "RCW 4.16.040"),
        LimitationPeriod("OH", 6, True, "Ohio Rev. Code § 2305.07"),
        LimitationPeriod("GA", 6, True, "Ga. Code § 9-3-24"),
        LimitationPeriod("NC", 3, True, "N.C. Gen. Stat. § 1-52"),
        LimitationPeriod("MI", 6, True, "Mich. Comp. Laws § 600.5807"),
        LimitationPeriod("AZ", 6, True, "Ariz. Rev. Stat. § 12-548"),
        LimitationPeriod("CO", 6, True, "Colo. Rev. Stat. § 13-80-103.5"),
        LimitationPeriod("VA", 5, True, "Va. Code § 8.01-246"),
        LimitationPeriod("WI", 6, False, "Wis. Stat. § 893.43; § 893.05 (debt extinguished)"),
        LimitationPeriod("MN", 6, True, "Minn. Stat. § 541.05"),
        LimitationPeriod("IA", 5, True, "Iowa Code § 614.1(4)"),
        LimitationPeriod("MO", 5, True, "Mo. Rev. Stat. § 516.120"),
        LimitationPeriod("IN", 6, True, "Ind. Code § 34-11-2-9"),
        LimitationPeriod("CT", 6, True, "Conn. Gen. Stat. § 52-576"),
    ]
}  # fmt: skip


def state_profiles(states):
    """The overlays that apply for a set of candidate states (all of them apply)."""
    return [STATES[s] for s in sorted(states) if s in STATES]


# United Kingdom: a debt is statute-barred 6 years after the cause of action in England,
# Wales and Northern Ireland, and extinguished after 5 in Scotland (a UK account's
# governing law "SC").
UK_LIMITATION_PERIODS = {
    "": LimitationPeriod("GB", 6, False, "Limitation Act 1980, s. 5 (England and Wales)"),
    "SC": LimitationPeriod(
        "SC", 5, False, "Prescription and Limitation (Scotland) Act 1973, s. 6 (extinguished)"
    ),
}
