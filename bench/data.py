"""Static reference data for the generator: the office's creditors, US state populations
and regions, and small name and street lists.

Addresses use real ZIP codes, cities and time zones (the `zipcodes` package); phone
numbers use real area codes with the 555 exchange, and email addresses use the reserved
`.example` top-level domain, so a bench office can never write to a real person.
"""

import multiprocessing
from functools import cache

import zipcodes

# 2020 census, thousands: a state's share of debtors.
STATE_POPULATION = {
    "AL": 5024, "AK": 733, "AZ": 7152, "AR": 3012, "CA": 39538, "CO": 5774, "CT": 3606,
    "DE": 990, "DC": 690, "FL": 21538, "GA": 10712, "HI": 1455, "ID": 1839, "IL": 12813,
    "IN": 6786, "IA": 3190, "KS": 2938, "KY": 4506, "LA": 4658, "ME": 1362, "MD": 6177,
    "MA": 7030, "MI": 10077, "MN": 5706, "MS": 2961, "MO": 6155, "MT": 1084, "NE": 1962,
    "NV": 3105, "NH": 1378, "NJ": 9289, "NM": 2118, "NY": 20201, "NC": 10439, "ND": 779,
    "OH": 11799, "OK": 3959, "OR": 4237, "PA": 13003, "RI": 1097, "SC": 5118, "SD": 887,
    "TN": 6911, "TX": 29146, "UT": 3272, "VT": 643, "VA": 8631, "WA": 7705, "WV": 1794,
    "WI": 5894, "WY": 577, "PR": 3286,
}  # fmt: skip

REGION = {}
for _region, _states in {
    "northeast": "CT ME MA NH RI VT NJ NY PA",
    "midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "south": "DE FL GA MD NC SC VA DC WV AL KY MS TN AR LA OK TX",
    "west": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
    "territory": "PR",
}.items():
    for _state in _states.split():
        REGION[_state] = _region

# The payment model's state term (see bench/README.md): a regional effect plus a few
# state-specific adjustments.
REGION_EFFECT = {
    "northeast": 0.10,
    "midwest": 0.20,
    "south": -0.15,
    "west": 0.0,
    "territory": -0.40,
}
STATE_ADJUSTMENT = {"TX": -0.10, "MN": 0.10, "NV": -0.15, "MA": 0.05}


def state_effect(state):
    if not state:
        return -0.25  # nowhere known: no address and no geographic phone
    return REGION_EFFECT[REGION[state]] + STATE_ADJUSTMENT.get(state, 0.0)


# One office's clients. `share` is the share of placed accounts; `balance` is the median
# placed balance in dollars and its log-normal spread; `age` is the range of years
# between charge-off and placement; `effect` is the sector term of the payment model.
CREDITORS = [
    dict(
        name="Northwind Bank, N.A.", reference="NWB", sector="credit_card", debt_type="consumer",
        share=0.25, balance=(2400, 0.85), age=(0.3, 2.5), effect=0.0, home_state="DE",
        interest=("none", "0"), fee_rate="0.2500", remittance="monthly",
        allocation=["fees", "interest", "principal"], originals=[], fee_share=0.35,
    ),
    dict(
        name="Harbor Health System", reference="HHS", sector="medical", debt_type="consumer",
        share=0.20, balance=(450, 1.0), age=(0.2, 1.5), effect=-0.30, home_state="OH",
        interest=("none", "0"), fee_rate="0.3000", remittance="monthly",
        allocation=["principal", "interest", "fees"], originals=[], fee_share=0.0,
    ),
    dict(
        name="Summit Wireless", reference="SMW", sector="telecom", debt_type="consumer",
        share=0.12, balance=(320, 0.7), age=(0.2, 1.2), effect=-0.45, home_state="TX",
        interest=("none", "0"), fee_rate="0.3500", remittance="weekly",
        allocation=["fees", "interest", "principal"], originals=[], fee_share=0.6,
    ),
    dict(
        name="Cascade Power & Light", reference="CPL", sector="utility", debt_type="consumer",
        share=0.10, balance=(280, 0.7), age=(0.1, 0.8), effect=0.20, home_state="WA",
        interest=("none", "0"), fee_rate="0.2500", remittance="monthly",
        allocation=["fees", "interest", "principal"], originals=[], fee_share=0.5,
    ),
    dict(
        name="Keystone Auto Finance", reference="KAF", sector="auto", debt_type="consumer",
        share=0.06, balance=(6500, 0.7), age=(0.3, 2.0), effect=-0.20, home_state="PA",
        interest=("simple", "6.000"), fee_rate="0.2200", remittance="monthly",
        allocation=["fees", "interest", "principal"], originals=[], fee_share=0.4,
    ),
    dict(
        name="Brightline Personal Loans", reference="BPL", sector="personal_loan",
        debt_type="consumer", share=0.09, balance=(3800, 0.8), age=(0.3, 2.0), effect=-0.10,
        home_state="UT", interest=("simple", "8.000"), fee_rate="0.2500", remittance="monthly",
        allocation=["fees", "interest", "principal"], originals=[], fee_share=0.3,
    ),
    dict(
        name="Meridian Supply Co.", reference="MSC", sector="commercial", debt_type="commercial",
        share=0.04, balance=(9000, 1.1), age=(0.1, 1.0), effect=0.35, home_state="IL",
        interest=("simple", "12.000"), fee_rate="0.2000", remittance="monthly",
        allocation=["interest", "fees", "principal"], originals=[], fee_share=0.5,
    ),
    dict(
        name="Atlas Receivables LLC", reference="ATR", sector="purchased", debt_type="consumer",
        share=0.14, balance=(1600, 0.9), age=(1.5, 7.0), effect=-0.25, home_state="SD",
        interest=("none", "0"), fee_rate="0.3500", remittance="weekly",
        allocation=["fees", "interest", "principal"], fee_share=0.0,
        originals=[
            "Granite Card Services", "Pioneer Credit Union", "Bluewater Retail Card",
            "Northwind Bank, N.A.", "Lakeside Consumer Finance",
        ],
    ),
]  # fmt: skip

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa Timothy Deborah "
    "Ronald Stephanie George Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia "
    "Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma "
    "Larry Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel "
    "Christine Gregory Debra Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria "
    "Jack Olivia Dennis Heather Jerry Helen Tyler Catherine Aaron Diane Jose Julie Adam "
    "Victoria Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle "
    "Joan Noah Virginia Ethan Judith Jeremy Evelyn Walter Hannah Christian Andrea Keith "
    "Megan Roger Cheryl Terry Jacqueline Austin Madison Sean Teresa Gerald Abigail Carl "
    "Sophia Harold Martha Dylan Sara Arthur Gloria Lawrence Janice Jordan Kathryn Jesse "
    "Ann Bryan Isabella Billy Judy Bruce Charlotte Gabriel Julia Joe Grace Logan Amber "
    "Alan Alice Juan Jean Albert Denise Willie Frances Elijah Danielle Wayne Marilyn "
    "Randy Natalie Vincent Beverly Mason Diana Roy Brittany Ralph Theresa Bobby Kayla "
    "Russell Alexis Bradley Doris Philip Lori Eugene Tiffany"
).split()

HISPANIC_FIRST_NAMES = (
    "José Juan Luis Carlos Jorge Miguel Pedro Jesús Manuel Francisco Alejandro Ricardo "
    "Fernando Roberto Javier Sergio Rafael Eduardo Raúl Andrés María Guadalupe Rosa Ana "
    "Carmen Juana Margarita Verónica Leticia Patricia Elena Adriana Gabriela Alejandra "
    "Lucía Sofía Isabel Mariana Daniela Claudia"
).split()

LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
    "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King "
    "Wright Scott Hill Green Adams Nelson Baker Hall Campbell Mitchell Carter Roberts "
    "Phillips Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan "
    "Cooper Peterson Bailey Reed Kelly Howard Cox Ward Richardson Watson Brooks Wood James "
    "Bennett Gray Hughes Price Sanders Myers Long Ross Foster Powell Jenkins Perry Russell "
    "Sullivan Bell Coleman Butler Henderson Barnes Fisher Simmons Patterson Jordan Reynolds "
    "Hamilton Graham Wallace Cole West Stone Hayes Gibson Ellis Murray Ford Marshall Owens "
    "McDonald Harrison Kennedy Wells Alexander Hunt Black Daniels Palmer Mills Nichols "
    "Grant Knight Ferguson Rose Hunter Tucker Porter Dunn Crawford Boyd Mason Warren Dixon "
    "O'Brien O'Connor Schmidt Meyer Wagner Becker Schultz Nguyen Tran Pham Kim Park Chen "
    "Wang Li Zhang Liu Singh Patel Shah Khan Ali Cohen Levy Romano Russo Rossi Kowalski "
    "Novak Jensen Larsen Hansen Olsen Johansson Lindqvist MacLeod Fraser Quinn Byrne Doyle"
).split()

HISPANIC_LAST_NAMES = (
    "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres "
    "Flores Rivera Gómez Díaz Cruz Morales Reyes Gutiérrez Ortiz Ramos Chávez Mendoza "
    "Ruiz Álvarez Castillo Jiménez Vásquez Moreno Herrera Medina Aguilar Vargas Romero "
    "Castro Guzmán Fernández Núñez Rojas Soto Delgado"
).split()

STREETS = (
    "Oak Maple Pine Cedar Elm Washington Lake Hill Park Main Walnut Spring Ridge Church "
    "Highland Sunset Lincoln Jackson Franklin Jefferson Madison Adams Willow Cherry Chestnut "
    "River Meadow Forest Valley Center Mill Dogwood Magnolia Sycamore Birch Poplar Hickory "
    "Laurel Locust Mulberry Prospect Union Liberty Railroad Broad College Market Orchard "
    "Green Meadowbrook Fairview Lakeview Riverside Woodland Country Club Heritage Pleasant"
).split()
STREET_SUFFIXES = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl", "Ter", "Cir"]

BUSINESS_WORDS = (
    "Apex Summit Pioneer Keystone Heritage Liberty Frontier Evergreen Golden Silver Blue "
    "Redwood Granite Riverbend Lakeshore Prairie Coastal Mountain Valley Metro Central"
).split()
BUSINESS_TRADES = (
    "Plumbing Roofing Landscaping Catering Auto Repair Electric Builders Dental Bakery "
    "Cleaning Logistics Printing Flooring Hardware Florist Fitness Pharmacy Tire Signs"
).split()
BUSINESS_FORMS = ["LLC", "Inc", "Co", "Group", "Services", "Partners"]

EMAIL_DOMAINS = [
    ("mailbox.example", 30),
    ("inbox.example", 22),
    ("webmail.example", 15),
    ("post.example", 10),
    ("netmail.example", 8),
    ("homemail.example", 5),
    ("isp-mail.example", 5),
    ("work.example", 5),
]


def _read_zip_table():
    from debtors.timezones import zones_for_zip

    table = {}
    for z in zipcodes.list_all():
        if z["zip_code_type"] != "STANDARD" or not z["active"] or not z["timezone"]:
            continue
        if z["state"] not in STATE_POPULATION:
            continue
        zones = ", ".join(f'"{zone}"' for zone in zones_for_zip(z["zip_code"]))
        table.setdefault(z["state"], []).append(
            (z["zip_code"], z["city"].title(), f"[{zones}]", tuple(z["area_codes"]))
        )
    for rows in table.values():
        rows.sort()
    return table


@cache
def zip_table():
    """{state: [(zip, city, candidate zones as JSON, area codes), …]} for active standard
    US ZIPs, the zones by `debtors.timezones.zones_for_zip` (the app's own rule).

    Read in a short-lived helper process: the zipcodes package keeps every ZIP record in
    memory once loaded (~140 MB), which the generator and its forked workers would
    otherwise carry for the whole run."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_read_zip_table)


@cache
def area_code_states():
    """[(area code, state), …]: every area code that serves a standard ZIP, by state."""
    seen = {}
    for state, rows in sorted(zip_table().items()):
        for _zip, _city, _tz, codes in rows:
            for code in codes:
                if len(code) == 3 and code.isdigit() and code[0] in "23456789":
                    seen.setdefault(code, state)
    return sorted(seen.items())
