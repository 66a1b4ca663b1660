#!/usr/bin/env python3
"""Generate a labeled synthetic corpus for the PII classifier.

Each output line is one JSON object:
  {"id": "...", "kind": "...", "text": "..."  | "record": {...},
   "labels": [{"type": "EMAIL", "start": 10, "end": 27, "field": "/email"?}, ...]}
Offsets are Unicode code point offsets (Python string indices), end exclusive. For records,
`field` is the JSON pointer of the string the offsets refer to.

Ten record kinds, two of them PII-free decoys. Every identifier that has a checksum or structural
rule is generated valid (Luhn + IIN, SSA SSN rules, ITIN groups, ABA 3-7-1, IBAN mod-97, NANP);
decoys are order numbers, SKUs, UPS/FedEx/USPS tracking numbers, prices, timestamps, UPC
barcodes and Luhn-failing gift-card numbers.

Names come from Faker: 80 % from en_US, 20 % from other locales (es_MX, it_IT, fr_FR, de_DE,
pt_BR, en_IN) so that part of the corpus has names outside the classifier's dictionary.

Usage: generate.py --seed 2026 --count 10000 > corpus.jsonl   (needs `pip install faker==40.63.0`)
"""
import argparse
import json
import random
import string
import sys

from faker import Faker

OTHER_LOCALES = ["es_MX", "it_IT", "fr_FR", "de_DE", "pt_BR", "en_IN"]
STATES = ["CA", "NY", "TX", "FL", "IL", "WA", "PA", "OH", "GA", "NC", "MI", "NJ", "VA", "AZ", "MA", "CO", "OR", "NV"]
EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "example.com", "hotmail.com", "aol.com"]


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.others = {}
        for idx, loc in enumerate(OTHER_LOCALES):
            f = Faker(loc)
            f.seed_instance(seed * 31 + idx)
            self.others[loc] = f

    # ---- people -------------------------------------------------------------------------
    def person(self):
        if self.r.random() < 0.2:
            f = self.others[self.r.choice(OTHER_LOCALES)]
        else:
            f = self.fake
        first = f.first_name()
        last = f.last_name()
        return first, last

    def email(self, first, last):
        base = self.r.choice([
            f"{first}.{last}", f"{first[0]}{last}", f"{first}{self.r.randint(1, 99)}",
            f"{last}.{first}", f"{first}_{last}{self.r.randint(1, 9999)}",
        ])
        base = "".join(c for c in base.lower() if c in string.ascii_lowercase + string.digits + "._")
        base = base.strip("._") or "user"
        domain = self.r.choice(EMAIL_DOMAINS) if self.r.random() < 0.8 else self.fake.domain_name()
        return f"{base}@{domain}"

    def username(self, first, last):
        base = self.r.choice([
            f"{first}{last}", f"{first[0]}{last}{self.r.randint(1, 999)}", self.fake.user_name(),
            f"{last}_{first[0]}", f"{first}.{last}",
        ])
        return "".join(c for c in base.lower() if c in string.ascii_lowercase + string.digits + "._") or "user1"

    def password(self):
        if self.r.random() < 0.5:
            return self.fake.password(length=self.r.randint(8, 16))
        word = self.r.choice(["summer", "dragon", "monkey", "sunshine", "letmein", "shadow", "tigers", "Welcome"])
        return word + str(self.r.randint(1, 9999)) + self.r.choice(["!", "", "#", "$", "?"])

    def password_hash(self):
        salt = "".join(self.r.choice(string.ascii_letters + string.digits) for _ in range(32))
        digest = "".join(self.r.choice("0123456789abcdef") for _ in range(64))
        return f"{digest}:{salt}:1"

    # ---- numbers ------------------------------------------------------------------------
    def nanp(self):
        def part3():
            while True:
                a = self.r.randint(2, 9)
                b = self.r.randint(0, 8)
                c = self.r.randint(0, 9)
                if not (b == 1 and c == 1):
                    return f"{a}{b}{c}"
        return part3(), part3(), f"{self.r.randint(0, 9999):04d}"

    def phone(self, bare_ok=True):
        a, e, s = self.nanp()
        fmts = [f"({a}) {e}-{s}", f"{a}-{e}-{s}", f"{a}.{e}.{s}", f"+1 {a} {e} {s}", f"+1{a}{e}{s}", f"1-{a}-{e}-{s}"]
        if bare_ok:
            fmts.append(f"{a}{e}{s}")
        return self.r.choice(fmts)

    def ssn_digits(self):
        while True:
            area = self.r.randint(1, 899)
            if area != 666:
                break
        return f"{area:03d}", f"{self.r.randint(1, 99):02d}", f"{self.r.randint(1, 9999):04d}"

    def ssn(self, dashed=True):
        a, g, s = self.ssn_digits()
        return f"{a}-{g}-{s}" if dashed else f"{a}{g}{s}"

    def itin(self, dashed=True):
        groups = list(range(50, 66)) + list(range(70, 89)) + [90, 91, 92] + list(range(94, 100))
        a, g, s = f"9{self.r.randint(0, 99):02d}", f"{self.r.choice(groups):02d}", f"{self.r.randint(0, 9999):04d}"
        return f"{a}-{g}-{s}" if dashed else f"{a}{g}{s}"

    @staticmethod
    def luhn_complete(prefix_digits):
        digits = [int(c) for c in prefix_digits] + [0]
        total = 0
        for idx, d in enumerate(reversed(digits)):
            if idx % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        check = (10 - total % 10) % 10
        return prefix_digits + str(check)

    def card(self):
        brand = self.r.choice(["visa", "visa", "mc", "mc2", "amex", "discover", "jcb"])
        if brand == "visa":
            prefix, length = "4", 16
        elif brand == "mc":
            prefix, length = str(self.r.randint(51, 55)), 16
        elif brand == "mc2":
            prefix, length = str(self.r.randint(2221, 2720)), 16
        elif brand == "amex":
            prefix, length = self.r.choice(["34", "37"]), 15
        elif brand == "discover":
            prefix, length = self.r.choice(["6011", "65"]), 16
        else:
            prefix, length = str(self.r.randint(3528, 3589)), 16
        body = prefix + "".join(str(self.r.randint(0, 9)) for _ in range(length - len(prefix) - 1))
        number = self.luhn_complete(body)
        style = self.r.choice(["plain", "space", "dash"])
        if style == "plain":
            return number, brand
        sep = " " if style == "space" else "-"
        if length == 15:
            groups = [number[:4], number[4:10], number[10:]]
        else:
            groups = [number[i:i + 4] for i in range(0, 16, 4)]
        return sep.join(groups), brand

    def cvv(self, brand):
        return f"{self.r.randint(0, 9999):04d}" if brand == "amex" else f"{self.r.randint(0, 999):03d}"

    def aba(self):
        prefix = self.r.choice([f"{x:02d}" for x in list(range(1, 13)) + list(range(21, 33)) + list(range(61, 73))])
        body = prefix + "".join(str(self.r.randint(0, 9)) for _ in range(6))
        weights = [3, 7, 1, 3, 7, 1, 3, 7]
        total = sum(int(c) * w for c, w in zip(body, weights))
        return body + str((10 - total % 10) % 10)

    def bank_account(self):
        return "".join(str(self.r.randint(0, 9)) for _ in range(self.r.randint(8, 17)))

    def iban(self):
        country = self.r.choice(["DE", "GB", "FR", "ES", "IT", "NL"])
        digits = lambda n: "".join(str(self.r.randint(0, 9)) for _ in range(n))
        letters = lambda n: "".join(self.r.choice(string.ascii_uppercase) for _ in range(n))
        bban = {
            "DE": lambda: digits(18),
            "GB": lambda: letters(4) + digits(14),
            "FR": lambda: digits(10) + letters(1) + digits(10) + digits(2),
            "ES": lambda: digits(20),
            "IT": lambda: letters(1) + digits(22),
            "NL": lambda: letters(4) + digits(10),
        }[country]()
        rearranged = bban + country + "00"
        numeric = "".join(str(int(c, 36)) for c in rearranged)
        check = 98 - int(numeric) % 97
        compact = f"{country}{check:02d}{bban}"
        if self.r.random() < 0.5:
            return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
        return compact

    def driver_license(self):
        state = self.r.choice(["CA", "NY", "TX", "FL", "IL", "WA", "PA", "OH"])
        d = lambda n: "".join(str(self.r.randint(0, 9)) for _ in range(n))
        letter = self.r.choice(string.ascii_uppercase)
        value = {
            "CA": lambda: letter + d(7),
            "NY": lambda: d(9),
            "TX": lambda: d(8),
            "FL": lambda: letter + d(12) if self.r.random() < 0.5 else f"{letter}{d(3)}-{d(3)}-{d(2)}-{d(3)}-{d(1)}",
            "IL": lambda: letter + d(11),
            "WA": lambda: "WDL" + "".join(self.r.choice(string.ascii_uppercase + string.digits) for _ in range(6)) + d(3),
            "PA": lambda: d(8),
            "OH": lambda: "".join(self.r.choice(string.ascii_uppercase) for _ in range(2)) + d(6),
        }[state]()
        return state, value

    def passport(self):
        if self.r.random() < 0.6:
            return "".join(str(self.r.randint(0, 9)) for _ in range(9))
        return self.r.choice(string.ascii_uppercase) + "".join(str(self.r.randint(0, 9)) for _ in range(8))

    def ip(self):
        x = self.r.random()
        if x < 0.15:
            return self.fake.ipv6()
        if x < 0.3:
            return self.fake.ipv4_private()
        return self.fake.ipv4_public()

    def dob(self):
        y, m, d = self.r.randint(1940, 2006), self.r.randint(1, 12), self.r.randint(1, 28)
        month = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"][m - 1]
        return self.r.choice([
            f"{y:04d}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y:04d}", f"{m}/{d}/{y}", f"{month} {d}, {y}", f"{d} {month[:3]} {y}",
        ])

    def street(self):
        return self.fake.street_address()

    def city_line(self):
        return f"{self.fake.city()}, {self.r.choice(STATES)} {self.fake.zipcode()}"

    # ---- decoys -------------------------------------------------------------------------
    def order_no(self):
        return self.r.choice([f"#{self.r.randint(1001, 99999)}", str(self.r.randint(1000000000, 9999999999)), f"{self.r.randint(100000000, 999999999)}"])

    def sku(self):
        return "-".join([self.r.choice(["TS", "HD", "SH", "BK", "MG", "CP"]), self.r.choice(["BLK", "WHT", "RED", "NVY"]), self.r.choice(["S", "M", "L", "XL"]), f"{self.r.randint(1, 9999):04d}"])

    def ups(self):
        chars = string.ascii_uppercase + string.digits
        return "1Z" + "".join(self.r.choice(chars) for _ in range(6)) + "".join(str(self.r.randint(0, 9)) for _ in range(10))

    def fedex(self):
        return "".join(str(self.r.randint(0, 9)) for _ in range(self.r.choice([12, 15])))

    def usps(self):
        raw = "94" + "".join(str(self.r.randint(0, 9)) for _ in range(20))
        return " ".join(raw[i:i + 4] for i in range(0, 22, 4)) if self.r.random() < 0.5 else raw

    def tracking(self):
        return self.r.choice([self.ups, self.fedex, self.usps])()

    def price(self):
        return f"${self.r.randint(1, 900)}.{self.r.randint(0, 99):02d}"

    def timestamp(self):
        y, mo, d = self.r.randint(2023, 2026), self.r.randint(1, 12), self.r.randint(1, 28)
        h, mi, s = self.r.randint(0, 23), self.r.randint(0, 59), self.r.randint(0, 59)
        return self.r.choice([f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z", f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}", str(self.r.randint(1672531200, 1798761600))])

    def gift_card(self):
        while True:
            digits = "".join(str(self.r.randint(0, 9)) for _ in range(16))
            if self.luhn_complete(digits[:-1]) != digits:
                break
        if self.r.random() < 0.5:
            return " ".join(digits[i:i + 4] for i in range(0, 16, 4))
        return "GC-" + "".join(self.r.choice(string.ascii_uppercase + string.digits) for _ in range(12))

    def upc(self):
        return "".join(str(self.r.randint(0, 9)) for _ in range(12))


class Text:
    """Builds a string while recording labeled spans."""

    def __init__(self):
        self.parts, self.labels, self.length = [], [], 0

    def add(self, s):
        self.parts.append(s)
        self.length += len(s)
        return self

    def ent(self, etype, s):
        self.labels.append({"type": etype, "start": self.length, "end": self.length + len(s)})
        return self.add(s)

    def value(self):
        return "".join(self.parts)


def whole(labels, pointer, etype, value):
    if value:
        labels.append({"type": etype, "start": 0, "end": len(value), "field": pointer})


# ---- record kinds -----------------------------------------------------------------------------

def shopify_customer(g):
    first, last = g.person()
    labels = []
    email = g.email(first, last)
    phone = g.phone()
    street = g.street()
    rec = {
        "id": g.r.randint(10**17, 10**18), "email": email, "accepts_marketing": g.r.random() < 0.5,
        "created_at": g.timestamp(), "updated_at": g.timestamp(), "first_name": first, "last_name": last,
        "orders_count": g.r.randint(0, 40), "state": "enabled", "total_spent": g.price()[1:], "phone": phone,
        "tags": "vip, newsletter", "currency": "USD",
        "default_address": {
            "id": g.r.randint(10**12, 10**13), "customer_id": g.r.randint(10**12, 10**13), "first_name": first,
            "last_name": last, "company": None, "address1": street, "address2": "", "city": g.fake.city(),
            "province": "California", "country": "United States", "zip": g.fake.zipcode(), "phone": phone,
            "name": f"{first} {last}", "province_code": g.r.choice(STATES), "country_code": "US", "default": True,
        },
    }
    whole(labels, "/email", "EMAIL", email)
    whole(labels, "/first_name", "PERSON", first)
    whole(labels, "/last_name", "PERSON", last)
    whole(labels, "/phone", "PHONE", phone)
    for k in ["first_name", "last_name"]:
        whole(labels, f"/default_address/{k}", "PERSON", rec["default_address"][k])
    whole(labels, "/default_address/address1", "STREET_ADDRESS", street)
    whole(labels, "/default_address/phone", "PHONE", phone)
    whole(labels, "/default_address/name", "PERSON", f"{first} {last}")
    if g.r.random() < 0.3:
        t = Text().add("Customer asked to update DOB to ").ent("DATE_OF_BIRTH", g.dob()).add(".")
        rec["note"] = t.value()
        for lab in t.labels:
            labels.append(dict(lab, field="/note"))
    return {"record": rec}, labels


def shopify_order(g):
    first, last = g.person()
    labels = []
    email = g.email(first, last)
    ip = g.ip()
    street = g.street()
    phone = g.phone()
    addr = {"first_name": first, "last_name": last, "address1": street, "address2": g.r.choice(["", f"Apt {g.r.randint(1, 999)}"]),
            "city": g.fake.city(), "zip": g.fake.zipcode(), "province_code": g.r.choice(STATES), "country_code": "US",
            "phone": phone, "name": f"{first} {last}", "company": None}
    rec = {
        "id": g.r.randint(10**17, 10**18), "order_number": g.r.randint(1001, 99999), "name": f"#{g.r.randint(1001, 99999)}",
        "email": email, "contact_email": email, "browser_ip": ip, "created_at": g.timestamp(), "total_price": g.price()[1:],
        "currency": "USD", "financial_status": "paid", "gateway": "shopify_payments",
        "billing_address": addr, "shipping_address": dict(addr),
        "line_items": [{"id": g.r.randint(10**12, 10**13), "name": g.fake.catch_phrase().title(), "sku": g.sku(), "price": g.price()[1:], "quantity": g.r.randint(1, 4)}
                       for _ in range(g.r.randint(1, 3))],
        "fulfillments": [{"tracking_number": g.tracking(), "tracking_company": g.r.choice(["UPS", "FedEx", "USPS"])}],
        "customer": {"id": g.r.randint(10**12, 10**13), "email": email, "first_name": first, "last_name": last},
    }
    for p in ["/email", "/contact_email", "/customer/email"]:
        whole(labels, p, "EMAIL", email)
    whole(labels, "/browser_ip", "IP_ADDRESS", ip)
    for which in ["billing_address", "shipping_address"]:
        whole(labels, f"/{which}/first_name", "PERSON", first)
        whole(labels, f"/{which}/last_name", "PERSON", last)
        whole(labels, f"/{which}/name", "PERSON", f"{first} {last}")
        whole(labels, f"/{which}/address1", "STREET_ADDRESS", street)
        whole(labels, f"/{which}/address2", "STREET_ADDRESS", addr["address2"])
        whole(labels, f"/{which}/phone", "PHONE", phone)
    whole(labels, "/customer/first_name", "PERSON", first)
    whole(labels, "/customer/last_name", "PERSON", last)
    if g.r.random() < 0.25:
        card, brand = g.card()
        t = Text().add("Customer phoned in payment: card ").ent("CREDIT_CARD", card).add(" exp 0" + str(g.r.randint(1, 9)) + "/2" + str(g.r.randint(6, 9)) + " CVV ").ent("CARD_CVV", g.cvv(brand))
        rec["note"] = t.value()
        for lab in t.labels:
            labels.append(dict(lab, field="/note"))
    return {"record": rec}, labels


def magento_customer(g):
    first, last = g.person()
    labels = []
    email = g.email(first, last)
    dob = g.r.choice([g.dob(), None])
    rec = {"entity_id": str(g.r.randint(1, 500000)), "website_id": "1", "email": email, "group_id": "1",
           "created_at": g.timestamp(), "updated_at": g.timestamp(), "is_active": "1", "firstname": first,
           "middlename": None, "lastname": last, "password_hash": g.password_hash(), "rp_token": "".join(g.r.choice("0123456789abcdef") for _ in range(32)),
           "dob": dob, "gender": str(g.r.randint(0, 3)), "default_billing": str(g.r.randint(1, 9999))}
    whole(labels, "/email", "EMAIL", email)
    whole(labels, "/firstname", "PERSON", first)
    whole(labels, "/lastname", "PERSON", last)
    whole(labels, "/password_hash", "PASSWORD", rec["password_hash"])
    if dob:
        whole(labels, "/dob", "DATE_OF_BIRTH", dob)
    x = g.r.random()
    if x < 0.3:
        rec["taxvat"] = g.ssn(dashed=g.r.random() < 0.5)
        whole(labels, "/taxvat", "US_SSN", rec["taxvat"])
    elif x < 0.45:
        rec["taxvat"] = g.itin(dashed=g.r.random() < 0.5)
        whole(labels, "/taxvat", "US_ITIN", rec["taxvat"])
    return {"record": rec}, labels


def magento_order_address(g):
    first, last = g.person()
    labels = []
    email = g.email(first, last)
    street = g.street()
    if g.r.random() < 0.3:
        street += "\n" + g.r.choice(["Apt 4B", "Suite 210", "Unit 7"])
    phone = g.phone()
    rec = {"entity_id": str(g.r.randint(1, 10**6)), "parent_id": str(g.r.randint(1, 10**6)), "region_id": str(g.r.randint(1, 60)),
           "region": g.fake.state(), "postcode": g.fake.zipcode(), "lastname": last, "street": street, "city": g.fake.city(),
           "email": email, "telephone": phone, "country_id": "US", "firstname": first, "address_type": g.r.choice(["billing", "shipping"]),
           "quote_address_id": str(g.r.randint(1, 10**6))}
    whole(labels, "/lastname", "PERSON", last)
    whole(labels, "/firstname", "PERSON", first)
    whole(labels, "/street", "STREET_ADDRESS", street)
    whole(labels, "/email", "EMAIL", email)
    whole(labels, "/telephone", "PHONE", phone)
    return {"record": rec}, labels


def magento_order_payment(g):
    first, last = g.person()
    labels = []
    card, brand = g.card()
    digits = card.replace(" ", "").replace("-", "")
    rec = {"entity_id": str(g.r.randint(1, 10**6)), "parent_id": str(g.r.randint(1, 10**6)), "base_amount_paid": g.price()[1:],
           "method": g.r.choice(["authorizenet_directpost", "ccsave", "checkmo", "braintree"]), "cc_type": {"visa": "VI", "mc": "MC", "mc2": "MC", "amex": "AE", "discover": "DI", "jcb": "JCB"}[brand],
           "cc_exp_month": str(g.r.randint(1, 12)), "cc_exp_year": str(g.r.randint(2026, 2031)), "cc_last_4": digits[-4:],
           "cc_owner": f"{first} {last}", "last_trans_id": str(g.r.randint(10**9, 10**10))}
    whole(labels, "/cc_owner", "PERSON", rec["cc_owner"])
    if g.r.random() < 0.6:
        rec["cc_number"] = card
        whole(labels, "/cc_number", "CREDIT_CARD", card)
    else:
        rec["cc_number_enc"] = "0:3:" + "".join(g.r.choice(string.ascii_letters + string.digits + "+/") for _ in range(44))
    if g.r.random() < 0.5:
        rec["cc_cid"] = g.cvv(brand)
        whole(labels, "/cc_cid", "CARD_CVV", rec["cc_cid"])
    if g.r.random() < 0.3:
        rec["echeck_routing_number"] = g.aba()
        rec["echeck_bank_account"] = g.bank_account()
        rec["echeck_account_name"] = f"{first} {last}"
        whole(labels, "/echeck_routing_number", "ABA_ROUTING", rec["echeck_routing_number"])
        whole(labels, "/echeck_bank_account", "US_BANK_ACCOUNT", rec["echeck_bank_account"])
        whole(labels, "/echeck_account_name", "PERSON", rec["echeck_account_name"])
    rec["additional_information"] = {"method_title": "Credit Card", "transaction_id": str(g.r.randint(10**9, 10**10))}
    return {"record": rec}, labels


def support_ticket(g):
    first, last = g.person()
    t = Text()
    t.add(g.r.choice(["Hi, this is ", "Hello, my name is ", "Customer ", "Message from "])).ent("PERSON", f"{first} {last}").add(". ")
    order = g.order_no()
    t.add(g.r.choice([f"Order {order} arrived damaged", f"I was charged twice for order {order}", f"Where is my order {order}?"])).add(". ")
    options = ["email", "phone", "address", "card", "ssn", "dob", "ip"]
    for opt in g.r.sample(options, g.r.randint(2, 5)):
        if opt == "email":
            t.add(g.r.choice(["You can email me at ", "My email is ", "Reply to "])).ent("EMAIL", g.email(first, last)).add(". ")
        elif opt == "phone":
            t.add(g.r.choice(["Call me at ", "My phone number is ", "Text me on ", "Reach me at "])).ent("PHONE", g.phone()).add(". ")
        elif opt == "address":
            addr = g.street() + (", " + g.city_line() if g.r.random() < 0.6 else "")
            t.add(g.r.choice(["Please ship the replacement to ", "My new address is ", "Deliver to "])).ent("STREET_ADDRESS", addr).add(". ")
        elif opt == "card":
            card, brand = g.card()
            t.add(g.r.choice(["The card I used is ", "Charge my card ", "Card number "])).ent("CREDIT_CARD", card)
            if g.r.random() < 0.5:
                t.add(g.r.choice([", security code ", " CVV ", " cvc "])).ent("CARD_CVV", g.cvv(brand))
            t.add(". ")
        elif opt == "ssn":
            t.add(g.r.choice(["For verification my SSN is ", "Social security number: ", "SSN "])).ent("US_SSN", g.ssn(dashed=g.r.random() < 0.8)).add(". ")
        elif opt == "dob":
            t.add(g.r.choice(["My date of birth is ", "DOB ", "I was born on "])).ent("DATE_OF_BIRTH", g.dob()).add(". ")
        elif opt == "ip":
            t.add("The site blocked my IP ").ent("IP_ADDRESS", g.ip()).add(". ")
    t.add(g.r.choice(["Thanks, ", "Regards, ", "Best, "])).ent("PERSON", first)
    return {"text": t.value()}, t.labels


def app_log(g):
    first, last = g.person()
    t = Text()
    t.add(g.timestamp() + " " + g.r.choice(["INFO", "WARN", "DEBUG", "ERROR"]) + " ")
    kind = g.r.choice(["checkout", "login", "payment", "profile", "ach"])
    t.add(f"svc={kind} request_id={g.r.randint(10**9, 10**10)} ")
    if kind == "checkout":
        t.add(f"order_id={g.order_no().lstrip('#')} user_email=").ent("EMAIL", g.email(first, last))
        t.add(" billing_telephone=").ent("PHONE", g.phone()).add(" ip=").ent("IP_ADDRESS", g.ip())
        t.add(f" total={g.price()[1:]} sku={g.sku()}")
    elif kind == "login":
        t.add(g.r.choice(["login failed ", "auth attempt ", "session start "])).add("username=").ent("USERNAME", g.username(first, last))
        if g.r.random() < 0.6:
            t.add(" password=").ent("PASSWORD", g.password())
        t.add(" remote_addr=").ent("IP_ADDRESS", g.ip()).add(f" attempts={g.r.randint(1, 5)}")
    elif kind == "payment":
        card, brand = g.card()
        t.add(f"order={g.order_no().lstrip('#')} cc_number=").ent("CREDIT_CARD", card.replace(" ", "").replace("-", ""))
        if g.r.random() < 0.6:
            t.add(" cvv=").ent("CARD_CVV", g.cvv(brand))
        t.add(' cardholder="').ent("PERSON", f"{first} {last}").add('"')
        t.add(f" amount={g.price()[1:]}")
    elif kind == "profile":
        t.add("profile updated first_name=").ent("PERSON", first).add(" last_name=").ent("PERSON", last)
        dob = g.dob()
        if " " in dob:
            t.add(' dob="').ent("DATE_OF_BIRTH", dob).add('"')
        else:
            t.add(" dob=").ent("DATE_OF_BIRTH", dob)
        t.add(" ssn=").ent("US_SSN", g.ssn(dashed=g.r.random() < 0.5))
        t.add(' street="').ent("STREET_ADDRESS", g.street()).add('"')
    else:
        t.add("ach debit routing_number=").ent("ABA_ROUTING", g.aba()).add(" account_number=").ent("US_BANK_ACCOUNT", g.bank_account())
        t.add(f" trace={g.r.randint(10**14, 10**15)} email=").ent("EMAIL", g.email(first, last))
    return {"text": t.value()}, t.labels


def kyc(g):
    first, last = g.person()
    if g.r.random() < 0.5:
        t = Text()
        t.add(g.r.choice(["KYC review: verified ", "Identity check for ", "Onboarding note - "])).ent("PERSON", f"{first} {last}")
        t.add(g.r.choice([" (DOB ", ", born "])).ent("DATE_OF_BIRTH", g.dob()).add(g.r.choice([") ", ". "]))
        for opt in g.r.sample(["dl", "passport", "itin", "iban", "bank"], g.r.randint(1, 3)):
            if opt == "dl":
                state, dl = g.driver_license()
                t.add(g.r.choice([f"{state} driver's license ", f"Driver license ({state}) ", f"DL# "])).ent("US_DRIVER_LICENSE", dl).add(". ")
            elif opt == "passport":
                t.add(g.r.choice(["US passport ", "Passport no. ", "passport number "])).ent("US_PASSPORT", g.passport()).add(". ")
            elif opt == "itin":
                t.add(g.r.choice(["ITIN ", "Taxpayer ID (ITIN): "])).ent("US_ITIN", g.itin()).add(". ")
            elif opt == "iban":
                t.add(g.r.choice(["Payout IBAN ", "IBAN: "])).ent("IBAN", g.iban()).add(". ")
            else:
                t.add("Routing ").ent("ABA_ROUTING", g.aba()).add(", account ").ent("US_BANK_ACCOUNT", g.bank_account()).add(". ")
        t.add(f"Case {g.r.randint(10000, 99999)} closed {g.timestamp()}.")
        return {"text": t.value()}, t.labels
    labels = []
    rec = {"submission_id": g.r.randint(10**6, 10**7), "full_name": f"{first} {last}", "date_of_birth": g.dob(),
           "submitted_at": g.timestamp(), "status": g.r.choice(["approved", "pending", "rejected"])}
    whole(labels, "/full_name", "PERSON", rec["full_name"])
    whole(labels, "/date_of_birth", "DATE_OF_BIRTH", rec["date_of_birth"])
    for opt in g.r.sample(["dl", "passport", "itin", "iban", "bank"], g.r.randint(1, 3)):
        if opt == "dl":
            state, dl = g.driver_license()
            rec["drivers_license"] = {"state": state, "number": dl}
            whole(labels, "/drivers_license/number", "US_DRIVER_LICENSE", dl)
        elif opt == "passport":
            rec["passport_number"] = g.passport()
            whole(labels, "/passport_number", "US_PASSPORT", rec["passport_number"])
        elif opt == "itin":
            rec["itin"] = g.itin()
            whole(labels, "/itin", "US_ITIN", rec["itin"])
        elif opt == "iban":
            rec["iban"] = g.iban()
            whole(labels, "/iban", "IBAN", rec["iban"])
        else:
            rec["bank"] = {"routing_number": g.aba(), "account_number": g.bank_account(), "bank_name": g.fake.company() + " Bank"}
            whole(labels, "/bank/routing_number", "ABA_ROUTING", rec["bank"]["routing_number"])
            whole(labels, "/bank/account_number", "US_BANK_ACCOUNT", rec["bank"]["account_number"])
    return {"record": rec}, labels


def decoy_shipping_log(g):
    parts = [
        f"{g.timestamp()} Order {g.order_no()} shipped via {g.r.choice(['UPS', 'FedEx', 'USPS'])} tracking {g.tracking()}",
        f"SKU {g.sku()} x{g.r.randint(1, 5)} at {g.price()}",
        f"gift card {g.gift_card()} applied, balance {g.price()}",
        f"warehouse bin {g.r.choice('ABCDEF')}{g.r.randint(1, 40)}-{g.r.randint(1, 9)}, batch {g.r.randint(100000, 999999)}",
        f"invoice {g.r.randint(10**7, 10**8)} total {g.price()} due {g.timestamp()}",
        f"UPC {g.upc()} restocked qty {g.r.randint(1, 500)}",
        f"refund {g.order_no()} of {g.price()} processed {g.timestamp()}",
        f"Return label {g.tracking()} created for RMA {g.r.randint(10000, 99999)}",
    ]
    g.r.shuffle(parts)
    return {"text": "; ".join(parts[: g.r.randint(3, 6)])}, []


def decoy_product(g):
    rec = {
        "id": g.r.randint(10**12, 10**13), "title": g.fake.catch_phrase().title(), "vendor": g.fake.company(),
        "product_type": g.r.choice(["Apparel", "Mugs", "Books", "Outdoor"]), "created_at": g.timestamp(), "handle": g.fake.slug(),
        "tags": ", ".join(g.fake.words(3)), "status": "active",
        "variants": [{"id": g.r.randint(10**12, 10**13), "product_id": g.r.randint(10**12, 10**13), "title": g.r.choice(["S", "M", "L"]),
                      "price": g.price()[1:], "sku": g.sku(), "barcode": g.upc(), "inventory_item_id": g.r.randint(10**12, 10**13),
                      "inventory_quantity": g.r.randint(0, 900), "weight": g.r.randint(1, 40), "updated_at": g.timestamp()}
                     for _ in range(g.r.randint(1, 3))],
        "options": [{"name": "Size", "values": ["S", "M", "L"]}],
        "gift_card_code": g.gift_card() if g.r.random() < 0.3 else None,
    }
    return {"record": rec}, []


KINDS = [
    ("shopify_customer", shopify_customer, 10),
    ("shopify_order", shopify_order, 12),
    ("magento_customer", magento_customer, 10),
    ("magento_order_address", magento_order_address, 8),
    ("magento_order_payment", magento_order_payment, 10),
    ("support_ticket", support_ticket, 12),
    ("app_log", app_log, 14),
    ("kyc", kyc, 10),
    ("decoy_shipping_log", decoy_shipping_log, 8),
    ("decoy_product", decoy_product, 6),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, default=10000)
    args = parser.parse_args()
    g = Gen(args.seed)
    names = [k for k, _, _ in KINDS]
    weights = [w for _, _, w in KINDS]
    funcs = {k: f for k, f, _ in KINDS}
    out = sys.stdout
    for idx in range(args.count):
        kind = g.r.choices(names, weights)[0]
        body, labels = funcs[kind](g)
        line = {"id": f"s{args.seed}-{idx}", "kind": kind, **body, "labels": labels}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
