"""Our side of a column mapping: the fields a placement row can carry (each with its
parser from `parsers`), and a first guess at which file column is which field, from the
header names.
"""

import re
import unicodedata
from dataclasses import dataclass

from accounts.imports.parsers import (
    identifier_parser,
    parse_currency,
    parse_date,
    parse_debt_type,
    parse_email,
    parse_language,
    parse_last4,
    parse_money,
    parse_percent,
    parse_phone,
    parse_ssn_last4,
    parse_state,
    parse_zip,
    text_parser,
)


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    group: str
    parse: object
    aliases: tuple = ()
    help: str = ""
    required: bool = False


ACCOUNT, DEBTOR, CONTACT, MONEY, DATES = "Account", "Debtor", "Contact", "Balances", "Dates"
FIELDS = (
    Field("creditor_reference", "Creditor account number", ACCOUNT, identifier_parser(60),
          ("account number", "account no", "acct no", "account", "account id", "acct",
           "client reference", "client account", "creditor reference", "reference",
           "loan number"), required=True),
    Field("creditor_debtor_id", "Creditor's customer ID", ACCOUNT, identifier_parser(60),
          ("customer id", "customer number", "customer no", "cust id", "cust no", "customer",
           "debtor id", "member id", "patient id", "client debtor id"),
          "Links every account of one person at this creditor to one debtor."),
    Field("original_creditor", "Original creditor", ACCOUNT, text_parser(200),
          ("original creditor", "orig creditor")),
    Field("original_account", "Original account number", ACCOUNT, parse_last4,
          ("original account", "original account number", "orig account"),
          "Only its last 4 characters are kept."),
    Field("debt_type", "Debt type", ACCOUNT, parse_debt_type, ("debt type", "type")),
    Field("currency", "Currency", ACCOUNT, parse_currency, ("currency", "ccy")),
    Field("first_name", "First name", DEBTOR, text_parser(100),
          ("first", "first name", "firstname", "given name", "fname")),
    Field("middle_name", "Middle name", DEBTOR, text_parser(100),
          ("middle", "middle name", "middle initial", "mi")),
    Field("last_name", "Last name", DEBTOR, text_parser(100),
          ("last", "last name", "lastname", "surname", "family name", "lname")),
    Field("business_name", "Business name", DEBTOR, text_parser(200),
          ("business", "business name", "company", "company name")),
    Field("date_of_birth", "Date of birth", DEBTOR, parse_date,
          ("dob", "date of birth", "birth date", "birthdate", "birthday")),
    Field("ssn_last4", "SSN (last 4)", DEBTOR, parse_ssn_last4,
          ("ssn", "ssn last 4", "ssn last4", "last 4 ssn", "ssn4", "social", "last4"),
          "A full SSN is accepted; only its last 4 digits are kept."),
    Field("language", "Language", DEBTOR, parse_language, ("language", "lang")),
    Field("address1", "Street address", CONTACT, text_parser(200),
          ("address", "address 1", "address1", "address line 1", "street", "addr1",
           "street address")),
    Field("address2", "Address line 2", CONTACT, text_parser(200),
          ("address 2", "address2", "address line 2", "addr2", "apt", "unit")),
    Field("city", "City", CONTACT, text_parser(100), ("city", "town")),
    Field("state", "State", CONTACT, parse_state, ("state", "st", "province")),
    Field("zip", "ZIP code", CONTACT, parse_zip,
          ("zip", "zip code", "zipcode", "postal code", "postcode", "zip5")),
    Field("phone", "Phone", CONTACT, parse_phone,
          ("phone", "phone number", "home phone", "telephone", "mobile", "cell",
           "cell phone", "primary phone")),
    Field("phone_2", "Other phone", CONTACT, parse_phone,
          ("phone 2", "phone2", "other phone", "alt phone", "alternate phone",
           "secondary phone")),
    Field("work_phone", "Work phone", CONTACT, parse_phone,
          ("work phone", "employer phone", "business phone", "office phone")),
    Field("email", "Email", CONTACT, parse_email, ("email", "e mail", "email address")),
    Field("principal", "Principal", MONEY, parse_money,
          ("principal", "principal balance", "principal amount", "principal due"),
          required=True),
    Field("interest", "Interest", MONEY, parse_money,
          ("interest", "interest balance", "accrued interest", "interest due")),
    Field("fees", "Fees", MONEY, parse_money,
          ("fees", "fee", "fees balance", "late fees", "other fees", "collection costs")),
    Field("total_balance", "Total balance", MONEY, parse_money,
          ("total", "total balance", "total due", "balance due", "amount due", "amount owed",
           "balance", "current balance"),
          "When given, principal + interest + fees must add up to it."),
    Field("interest_rate", "Interest rate (annual %)", MONEY, parse_percent,
          ("interest rate", "rate", "apr")),
    Field("origination_date", "Account opened", DATES, parse_date,
          ("open date", "opened", "date opened", "origination date", "origination")),
    Field("charge_off_date", "Charge-off date", DATES, parse_date,
          ("charge off date", "chargeoff date", "charge off", "charged off", "co date")),
    Field("last_payment_date", "Last payment date", DATES, parse_date,
          ("last payment date", "last payment", "date of last payment", "dolp",
           "last pay date")),
    Field("itemization_date", "Itemization date", DATES, parse_date,
          ("itemization date",), "Defaults to the charge-off date."),
)  # fmt: skip
FIELDS_BY_KEY = {f.key: f for f in FIELDS}
DATE_FIELDS = {f.key for f in FIELDS if f.parse is parse_date}


def header_key(text):
    """A header as compared for guessing: no case, accents, punctuation or spaces, so
    "D.O.B." is "dob" and "Account_Number" is "accountnumber"."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "", text)


def mapping_guess(headers):
    """{field key: header} from the header names alone; each header used at most once."""
    by_key = {}
    for header in headers:
        by_key.setdefault(header_key(header), header)
    mapping, used = {}, set()
    for f in FIELDS:
        for name in (f.key.replace("_", " "), f.label, *f.aliases):
            header = by_key.get(header_key(name))
            if header and header not in used:
                mapping[f.key] = header
                used.add(header)
                break
    # A file with one balance column and no parts: that balance is the principal.
    if "principal" not in mapping and "total_balance" in mapping:
        if not {"interest", "fees"} & set(mapping):
            mapping["principal"] = mapping.pop("total_balance")
    return mapping


def mapping_clean(mapping, headers):
    """The mapping restricted to our fields and to columns this file has, in the order of
    the catalogue (a JSON column does not keep key order; problems are listed in it)."""
    mapping = mapping or {}
    return {f.key: mapping[f.key] for f in FIELDS if mapping.get(f.key) in headers}


def mapping_problems(mapping):
    """What stops a mapping from being used, as messages for a person."""
    problems = []
    if "creditor_reference" not in mapping:
        problems.append("Choose the column with the creditor's account number.")
    if "principal" not in mapping:
        problems.append("Choose the column with the principal balance.")
    if not {"last_name", "business_name"} & set(mapping):
        problems.append("Choose the column with the debtor's last name or business name.")
    fields_by_header = {}
    for key, header in mapping.items():
        fields_by_header.setdefault(header, []).append(FIELDS_BY_KEY[key].label)
    for header, labels in fields_by_header.items():
        if len(labels) > 1:
            problems.append(f"“{header}” is chosen for {' and '.join(labels)}; pick one.")
    return problems
