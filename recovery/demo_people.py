"""Believable, fictional people and places for the demo office (and tests).

Addresses use real ZIP codes (so time zones derive as in production); names are common
US first and last names; phone numbers use each ZIP's real area codes. None of it
belongs to anyone.
"""

import zipcodes

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew",
    "Betty", "Anthony", "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven",
    "Kimberly", "Andrew", "Emily", "Kenneth", "Donna", "Joshua", "Michelle", "Kevin",
    "Carol", "Brian", "Amanda", "George", "Melissa", "Timothy", "Deborah", "Ronald",
    "Stephanie", "Jason", "Rebecca", "Jeffrey", "Sharon", "Ryan", "Laura", "Jacob",
    "Cynthia", "Gary", "Dorothy", "Nicholas", "Amy", "Eric", "Kathleen", "Jonathan",
    "Angela", "Stephen", "Shirley", "Larry", "Emma", "Justin", "Brenda", "Scott", "Pamela",
    "Brandon", "Nicole", "Benjamin", "Anna", "Samuel", "Samantha", "Gregory", "Katherine",
    "Alexander", "Christine", "Patrick", "Debra", "Frank", "Rachel", "Raymond", "Carolyn",
    "Jack", "Janet", "Dennis", "Maria", "Jerry", "Olivia", "Tyler", "Heather", "Aaron",
    "Helen", "Wei", "Mei", "Hiroshi", "Aisha", "Omar", "Fatima", "Priya", "Rahul", "Nguyen",
    "Kwame", "Amara", "Dmitri", "Olga", "Sean", "Siobhan",
]  # fmt: skip
SPANISH_FIRST_NAMES = [
    "José", "María", "Juan", "Guadalupe", "Luis", "Rosa", "Carlos", "Ana", "Jorge",
    "Carmen", "Miguel", "Sofía", "Alejandro", "Lucía", "Francisco", "Isabel", "Javier",
    "Valentina", "Diego", "Camila", "Andrés", "Gabriela", "Ramón", "Paola", "Héctor",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Hill", "Green", "Adams", "Nelson", "Baker", "Hall", "Campbell", "Mitchell",
    "Carter", "Roberts", "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards",
    "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
    "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood",
    "Watson", "Brooks", "Bennett", "Gray", "James", "Hughes", "Price", "Sanders", "Myers",
    "Long", "Ross", "Foster", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Fisher",
    "Nguyen", "Kim", "Patel", "Chen", "Wang", "Li", "Singh", "Okafor", "Mensah", "Ivanova",
    "O'Brien", "Kowalski", "Schmidt", "Rossi", "Haddad", "Yamamoto",
]  # fmt: skip
SPANISH_LAST_NAMES = [
    "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez",
    "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales",
    "Reyes", "Gutiérrez", "Ortiz", "Chávez", "Ramos", "Vargas", "Castillo", "Jiménez",
]  # fmt: skip
STREETS = [
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Ave",
    "Lake Rd", "Hillcrest Dr", "Park Ave", "Sunset Blvd", "River Rd", "Church St",
    "Highland Ave", "Meadow Ln", "Willow Way", "Franklin St", "Lincoln Ave", "Spring St",
]  # fmt: skip
EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example"]


def zip_pool(states=None):
    """Standard, active ZIP codes (optionally in some states) that know their zone and
    area codes, sorted for reproducibility."""
    pool = [
        z
        for z in zipcodes.list_all()
        if z["zip_code_type"] == "STANDARD"
        and z["active"]
        and z.get("timezone")
        and z.get("area_codes")
        and (states is None or z["state"] in states)
    ]
    return sorted(pool, key=lambda z: z["zip_code"])


def person(rng, spanish_share=0.15):
    if rng.random() < spanish_share:
        return rng.choice(SPANISH_FIRST_NAMES), rng.choice(SPANISH_LAST_NAMES), "es"
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), "en"


def phone_for(rng, zip_record):
    area = rng.choice(zip_record["area_codes"])
    return f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def email_for(rng, first, last):
    import unicodedata

    def ascii_(s):
        s = unicodedata.normalize("NFKD", s)
        return "".join(c for c in s if c.isascii() and c.isalpha()).lower()

    return f"{ascii_(first)}.{ascii_(last)}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}"


def street_for(rng):
    return f"{rng.randint(10, 9899)} {rng.choice(STREETS)}"
