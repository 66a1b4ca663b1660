#!/usr/bin/env python3
"""Labeled corpus for the identifiers that decide breach notice: SSNs, ITINs, driver's licence and
state ID numbers (all 50 states and DC), passports, bank account and routing numbers, mixed with
PII-free distractors (order numbers, SKUs, tracking numbers, phone numbers, timestamps, zip+4,
invoice ids, licence plates and keys, delivery driver ids).

Four splits with disjoint wording and layouts, written one after the other:

  --split tune      phrasings, field names, CSV headers and number layouts used while tuning
  --split heldout   other phrasings (abbreviations, Spanish/French words, "state ID", "D/L", …),
                    other field names and headers, spaced/dotted layouts
  --split fresh     more wordings ("DL/ID#", "permiso de conducir", curly apostrophes), acronym
                    keys (`ABARouting`, `StateIDNo`), lower-case and regrouped numbers, en-dash
                    SSNs, records with a document `type` beside the number
  --split last      written after every change, scored once (seed 15)
  --split final     yet other wordings ("S.S. No.", "soc.sec.no.", "DMV license no",
                    "Operator's License Number"), UPPER_SNAKE keys, numbers in groups of four,
                    download URLs with `/dl/` in them

Each later split was scored once, before any change it prompted (BENCHMARKS.md has those
first-run numbers); after that it served as one more development set.

Only the standard library is used. Usage:
  generate_ids.py --split tune --seed 11 --count 4000 > ids-tune.jsonl
  generate_ids.py --split heldout --seed 12 --count 4000 > ids-heldout.jsonl
  (fresh: seed 13, final: seed 14)
Score with `evaluate_ids.py`.
"""
import argparse
import json
import random
import string
import sys

# State licence formats: A = letter, N = digit (AAMVA/state DMV published shapes, commonly used).
DL_FORMATS = {
    "AL": ["NNNNNNN", "NNNNNNNN"], "AK": ["NNNNNNN"], "AZ": ["ANNNNNNNN", "NNNNNNNNN"],
    "AR": ["NNNNNNNNN", "NNNNNNNN"], "CA": ["ANNNNNNN"], "CO": ["NNNNNNNNN", "NNNNNNNNN"],
    "CT": ["NNNNNNNNN"], "DE": ["NNNNNNN", "NNNNNN"], "DC": ["NNNNNNN", "NNNNNNNNN"],
    "FL": ["ANNNNNNNNNNNN"], "GA": ["NNNNNNNNN", "NNNNNNNN"], "HI": ["ANNNNNNNN", "NNNNNNNNN"],
    "ID": ["AANNNNNNA", "NNNNNNNNN"], "IL": ["ANNNNNNNNNNN", "ANNNNNNNNNNNN"],
    "IN": ["NNNNNNNNNN", "ANNNNNNNNN"], "IA": ["NNNNNNNNN", "NNNAANNNN"],
    "KS": ["ANNNNNNNN", "NNNNNNNNN"], "KY": ["ANNNNNNNN", "NNNNNNNNN"], "LA": ["NNNNNNNNN"],
    "ME": ["NNNNNNN", "NNNNNNNA"], "MD": ["ANNNNNNNNNNNN"], "MA": ["ANNNNNNNN", "SANNNNNNN"],
    "MI": ["ANNNNNNNNNNNN"], "MN": ["ANNNNNNNNNNNN"], "MS": ["NNNNNNNNN"],
    "MO": ["ANNNNNNNNN", "NNNNNNNNN", "NNNNNNNNNA"], "MT": ["NNNNNNNNNNNNN", "ANNNNNNNN"],
    "NE": ["ANNNNNNNN", "ANNNNNN"], "NV": ["NNNNNNNNNN", "NNNNNNNNNNNN", "XNNNNNNNN"],
    "NH": ["NNAAANNNNN"], "NJ": ["ANNNNNNNNNNNNNN"], "NM": ["NNNNNNNNN"],
    "NY": ["NNNNNNNNN", "ANNNNNNN", "NNNNNNNN"], "NC": ["NNNNNNNNNNNN", "NNNNNNNN"],
    "ND": ["AAANNNNNN", "NNNNNNNNN"], "OH": ["AANNNNNN", "NNNNNNNN"], "OK": ["ANNNNNNNNN", "NNNNNNNNN"],
    "OR": ["NNNNNNN", "ANNNNNN"], "PA": ["NNNNNNNN"], "RI": ["NNNNNNN", "VNNNNNN"],
    "SC": ["NNNNNNNNN", "NNNNNNNNNN"], "SD": ["NNNNNNNN", "NNNNNNNNNN"], "TN": ["NNNNNNNNN", "NNNNNNNN"],
    "TX": ["NNNNNNNN"], "UT": ["NNNNNNNNN", "NNNNNNNNNN"], "VT": ["NNNNNNNN", "NNNNNNNV"],
    "VA": ["ANNNNNNNN", "NNNNNNNNN"], "WA": ["WDLAAANNNANN", "AAAAAAANNNAN"], "WV": ["ANNNNNN", "NNNNNNN"],
    "WI": ["ANNNNNNNNNNNNN"], "WY": ["NNNNNNNNN", "NNNNNNNNNN"],
}
STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}
FIRST = ["Maria", "James", "Aisha", "Chen", "Olga", "Pedro", "Fatima", "Liam", "Yuki", "Grace", "Omar", "Nina"]
LAST = ["Garcia", "Smith", "Okafor", "Wang", "Petrova", "Silva", "Haddad", "Murphy", "Sato", "Kim", "Nguyen"]

# Wording per split. {st} = state code, {name} = state name.
PHRASES = {
    "tune": {
        "US_SSN": ["SSN ", "SSN: ", "social security number ", "Social Security Number: ", "ssn=", "SSN # "],
        "US_DRIVER_LICENSE": ["driver's license ", "Driver License ({st}) ", "DL# ", "{st} DL ", "license number ",
                              "drivers license no. ", "DL: ", "{st} driver's license number "],
        "US_PASSPORT": ["passport no. ", "Passport number: ", "US passport "],
        "US_ITIN": ["ITIN ", "ITIN: "],
        "US_BANK_ACCOUNT": ["account number ", "Account #: "],
        "ABA_ROUTING": ["routing number ", "Routing: "],
    },
    "heldout": {
        "US_SSN": ["SS# ", "soc sec no ", "Social Sec. #: ", "S.S.N. ", "número de seguro social ", "social security no: ",
                   "SSN (verified) ", "ss no. ", "Soc. Sec. No. ", "ssn = "],
        "US_DRIVER_LICENSE": ["D/L ", "Lic. No. ", "licence no ", "drivers lic # ", "operator license ", "state ID ",
                              "ID card no. ", "{name} driver's licence ", "CDL ", "DL No: {st} ", "licencia de conducir ",
                              "Driver Lic #: ", "State ID card number ", "DLN ", "driving licence number ",
                              "permis de conduire ", "dl nbr "],
        "US_PASSPORT": ["passport # ", "pasaporte ", "passport num: ", "Passport No "],
        "US_ITIN": ["taxpayer id ", "TIN: ", "individual taxpayer identification number "],
        "US_BANK_ACCOUNT": ["acct # ", "checking acct ", "bank account: "],
        "ABA_ROUTING": ["ABA ", "routing # ", "RTN "],
    },
}
PHRASES["fresh"] = {
    "US_SSN": ["SSN#: ", "Soc Sec # ", "social security nbr ", "SSN No. ", "ss # ", "Social-Security: ",
               "n.º seguro social ", "ssn:", "SSN -> ", "the customer's social security number is "],
    "US_DRIVER_LICENSE": ["DL num ", "Driver’s License: ", "drivers-license=", "license no. {st}-", "{name} DL# ",
                          "DL ({st}) ", "ID card: ", "state-issued ID ", "Drivers Lic No ", "driver license nbr ",
                          "permiso de conducir ", "learner's permit ", "lic# ", "DL/ID# "],
    "US_PASSPORT": ["passport: ", "Passport Number ", "passport id "],
    "US_ITIN": ["ITIN#", "tax ID ", "Tax Identification No. "],
    "US_BANK_ACCOUNT": ["acct no ", "account # "],
    "ABA_ROUTING": ["routing no ", "ABA# "],
}
PHRASES["final"] = {
    "US_SSN": ["Social Security Number (SSN): ", "SSN/TIN: ", "ssn#", "S.S. No. ", "SocSec: ", "soc.sec.no. ",
               "my social is ", "número de seguro social (SSN): ", "Social Security: "],
    "US_DRIVER_LICENSE": ["DL #: ", "Drivers License No.: ", "Lic #", "driver's license # {st} ", "{st} DL No. ",
                          "DMV license no ", "driver lic. ", "dl-number: ", "identification (driver license): ",
                          "license#", "Operator's License Number ", "{name} ID card ", "DL / {st} / "],
    "US_PASSPORT": ["passport#", "Passport (US): ", "passport no: "],
    "US_ITIN": ["ITIN no. ", "TIN ", "Tax ID#: "],
    "US_BANK_ACCOUNT": ["Acct#", "account no. "],
    "ABA_ROUTING": ["ABA routing ", "RTN# "],
}
PHRASES["last"] = {
    "US_SSN": ["SSN ending none, full SSN ", "Social Security No: ", "SSN provided: ", "S/S# ", "soc. security # ",
               "SSN - ", "ss#:", "social security number of the account holder: "],
    "US_DRIVER_LICENSE": ["Driver License #: ", "DL ID ", "drivers license number is ", "DL No.: {st} ",
                          "{st} license # ", "Lic No: ", "driver's lic #: ", "state identification number ",
                          "Driver's License ({name}): ", "DL: {st}-", "photo ID (driver's license) "],
    "US_PASSPORT": ["US Passport #: ", "passport no ", "passport number is "],
    "US_ITIN": ["ITIN: ", "Individual Taxpayer ID ", "TIN/ITIN "],
    "US_BANK_ACCOUNT": ["acct#: ", "bank acct no. "],
    "ABA_ROUTING": ["routing#: ", "ABA/RTN "],
}
FIELDS = {
    "tune": {
        "US_SSN": ["ssn", "social_security_number", "customer_ssn"],
        "US_DRIVER_LICENSE": ["drivers_license", "dl_number", "license_number", "driverLicense"],
        "US_PASSPORT": ["passport_number", "passport"],
        "US_ITIN": ["itin"],
        "US_BANK_ACCOUNT": ["bank_account", "account_number"],
        "ABA_ROUTING": ["routing_number"],
    },
    "heldout": {
        "US_SSN": ["ss_number", "SocSecNo", "socialSecurity", "ssn_full", "SSN#"],
        "US_DRIVER_LICENSE": ["DriversLicenceNo", "stateIdNumber", "id_card_number", "operator_lic", "dl",
                              "DLN", "lic_no", "driver_lic_num", "state_id_no"],
        "US_PASSPORT": ["passportNo", "passport_num"],
        "US_ITIN": ["taxpayer_id", "tin"],
        "US_BANK_ACCOUNT": ["acct_no", "checkingAccount"],
        "ABA_ROUTING": ["aba_number", "routingNo"],
    },
}
FIELDS["fresh"] = {
    "US_SSN": ["SSN_Number", "socialSecurityNo", "ss_no", "SSNum"],
    "US_DRIVER_LICENSE": ["DriverLicenseNumber", "dl_no", "license", "StateIDNo", "dlNum", "drivers_lic"],
    "US_PASSPORT": ["PassportNumber", "passport_no"],
    "US_ITIN": ["TaxID", "itin_number"],
    "US_BANK_ACCOUNT": ["AccountNo", "bank_acct"],
    "ABA_ROUTING": ["ABARouting", "routing"],
}
FIELDS["final"] = {
    "US_SSN": ["Ssn", "SOCIAL_SECURITY_NO", "applicant_ssn", "ssnNumber"],
    "US_DRIVER_LICENSE": ["DRIVERS_LICENSE_NO", "dlNumber", "DriverLicense", "dl_num", "StateIdCard", "license_no"],
    "US_PASSPORT": ["PASSPORT_NO", "passportId"],
    "US_ITIN": ["ITIN_NUMBER", "tax_identification_number"],
    "US_BANK_ACCOUNT": ["ACCOUNT_NO"],
    "ABA_ROUTING": ["ROUTING_NO"],
}
FIELDS["last"] = {
    "US_SSN": ["ssn_number", "SocialSecurityNumber", "ssn_value", "customer.ssn"],
    "US_DRIVER_LICENSE": ["driversLicenseNumber", "dl_id", "license_num", "DLNumber", "state_id_number"],
    "US_PASSPORT": ["passport_no", "PassportNo"],
    "US_ITIN": ["itin_no", "TaxpayerId"],
    "US_BANK_ACCOUNT": ["account_num"],
    "ABA_ROUTING": ["aba_routing"],
}
CSV_HEADERS = {
    "tune": {"US_SSN": "ssn", "US_DRIVER_LICENSE": "dl_number", "US_PASSPORT": "passport_number"},
    "heldout": {"US_SSN": "Social Security #", "US_DRIVER_LICENSE": "Driver's License #", "US_PASSPORT": "Passport No."},
    "fresh": {"US_SSN": "SSN", "US_DRIVER_LICENSE": "DL Number", "US_PASSPORT": "Passport"},
    "last": {"US_SSN": "SSN#", "US_DRIVER_LICENSE": "License No", "US_PASSPORT": "Passport No"},
    "final": {"US_SSN": "Social Security Number", "US_DRIVER_LICENSE": "Drivers License", "US_PASSPORT": "Passport #"},
}
SCORED = ["US_SSN", "US_ITIN", "US_DRIVER_LICENSE", "US_PASSPORT", "US_BANK_ACCOUNT", "ABA_ROUTING"]


class Text:
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


class Gen:
    def __init__(self, seed, split):
        self.r = random.Random(seed)
        self.split = split

    def digits(self, n):
        return "".join(self.r.choice(string.digits) for _ in range(n))

    def ssn_parts(self):
        while True:
            a = self.r.randint(1, 899)
            if a != 666:
                return f"{a:03d}", f"{self.r.randint(1, 99):02d}", f"{self.r.randint(1, 9999):04d}"

    def ssn(self):
        a, g, s = self.ssn_parts()
        if self.split == "tune":
            return self.r.choice([f"{a}-{g}-{s}", f"{a}{g}{s}"])
        if self.split in ("final", "last"):
            return self.r.choice([f"{a}-{g}-{s}", f"{a} {g} {s}", f"{a}{g}{s}"])
        if self.split == "fresh":
            return self.r.choice([f"{a} {g} {s}", f"{a}-{g}-{s}", f"{a}{g}{s}", f"{a}-{g}-{s}", f"{a}–{g}–{s}"])
        return self.r.choice([f"{a} {g} {s}", f"{a}.{g}.{s}", f"{a}-{g}-{s}", f"{a}{g}{s}"])

    def itin(self):
        g = self.r.choice(list(range(50, 66)) + list(range(70, 89)) + [90, 91, 92] + list(range(94, 100)))
        a, s = f"9{self.digits(2)}", f"{self.r.randint(1, 9999):04d}"
        return self.r.choice([f"{a}-{g}-{s}", f"{a}{g}{s}"])

    def dl(self):
        st = self.r.choice(sorted(DL_FORMATS))
        fmt = self.r.choice(DL_FORMATS[st])
        out = []
        for ch in fmt:
            if ch == "V" and st == "VT":
                out.append("A")
            elif ch == "A":
                out.append(self.r.choice(string.ascii_uppercase))
            elif ch == "N":
                out.append(self.r.choice(string.digits))
            else:
                out.append(ch)
        value = "".join(out)
        if value.isdigit() and value[0] == "0":
            value = "1" + value[1:]
        return st, self.layout(st, value)

    def layout(self, st, v):
        """How the number is printed: compact, or grouped the way the card or a clerk writes it."""
        roll = self.r.random()
        if self.split == "tune":
            if st == "FL" and roll < 0.6:
                return f"{v[0]}{v[1:4]}-{v[4:7]}-{v[7:9]}-{v[9:12]}-{v[12:]}"
            if st == "IL" and roll < 0.6:
                return f"{v[:4]}-{v[4:8]}-{v[8:]}"
            return v
        if self.split == "last":
            if roll < 0.5:
                return v
            if v[0].isalpha() and len(v) >= 8:
                return v[0] + " " + v[1:]
            if v.isdigit() and len(v) >= 8:
                return f"{v[:2]}-{v[2:5]}-{v[5:]}"
            return v.lower()
        if self.split == "final":
            if roll < 0.4:
                return v
            if roll < 0.5:
                return v.lower()
            if len(v) >= 8:
                return " ".join(v[i:i + 4] for i in range(0, len(v), 4))
            return v
        if self.split == "fresh":
            if roll < 0.3:
                return v
            if roll < 0.45:
                return v.lower()
            if v[0].isalpha() and v[1:].isdigit() and len(v) >= 9:
                body = v[1:]
                return v[0] + "-" + "-".join(body[i:i + 4] for i in range(0, len(body), 4))
            if v.isdigit() and len(v) >= 7:
                return " ".join(v[i:i + 3] for i in range(0, len(v), 3))
            return v
        if roll < 0.35:
            return v
        if v.isdigit() and len(v) == 9:
            return f"{v[:3]} {v[3:6]} {v[6:]}"
        if v[0].isalpha() and v[1:].isdigit() and len(v) >= 11:
            sep = self.r.choice([" ", "-"])
            body = v[1:]
            groups = [body[i:i + 3] for i in range(0, len(body), 3)]
            return v[0] + sep + sep.join(groups) if sep == " " else v[0] + body[:3] + "-" + "-".join(
                body[i:i + 4] for i in range(3, len(body), 4))
        if v.isdigit() and len(v) >= 8:
            return f"{v[:4]}-{v[4:]}"
        return v

    def passport(self):
        if self.r.random() < 0.5:
            return self.r.choice(string.ascii_uppercase) + self.digits(8)
        return str(self.r.randint(1, 9)) + self.digits(8)

    def aba(self):
        while True:
            d = self.r.choice(["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "21", "22",
                               "26", "31", "32", "06", "07"]) + self.digits(6)
            w = [3, 7, 1, 3, 7, 1, 3, 7]
            s = sum(int(c) * k for c, k in zip(d, w))
            return d + str((10 - s % 10) % 10)

    def account(self):
        return str(self.r.randint(1, 9)) + self.digits(self.r.randint(7, 11))

    def value(self, etype):
        if etype == "US_SSN":
            return self.ssn()
        if etype == "US_ITIN":
            return self.itin()
        if etype == "US_PASSPORT":
            return self.passport()
        if etype == "ABA_ROUTING":
            return self.aba()
        if etype == "US_BANK_ACCOUNT":
            return self.account()
        raise ValueError(etype)

    def name(self):
        return f"{self.r.choice(FIRST)} {self.r.choice(LAST)}"

    def phrase(self, etype, st=""):
        p = self.r.choice(PHRASES[self.split][etype])
        return p.format(st=st, name=STATE_NAMES.get(st, st))

    # distractor values
    def phone(self):
        a, e, s = self.r.randint(201, 989), self.r.randint(201, 989), self.digits(4)
        return self.r.choice([f"({a}) {e}-{s}", f"{a}-{e}-{s}", f"{a}.{e}.{s}", f"+1 {a} {e} {s}"])

    def distractor(self):
        r = self.r
        options = [
            lambda: f"Order #{r.randint(1000, 999999999)}",
            lambda: f"order {r.randint(100000000, 999999999)} shipped",
            lambda: f"SKU {r.choice(['AB', 'DL', 'CA', 'TX', 'NY'])}-{self.digits(4)}-{self.digits(2)}",
            lambda: f"sku={r.choice(string.ascii_uppercase)}{self.digits(7)}",
            lambda: f"tracking 1Z{self.digits(3)}{r.choice(['AA', 'X5', 'E2'])}{self.digits(10)}",
            lambda: f"USPS {self.digits(22)}",
            lambda: f"FedEx {self.digits(12)}",
            lambda: f"support line {self.phone()}",
            lambda: f"at 2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:00Z",
            lambda: f"ts={r.randint(1600000000, 1800000000)}",
            lambda: f"zip {r.randint(10000, 99999)}-{self.digits(4)}",
            lambda: f"Invoice INV-{r.randint(2019, 2026)}-{self.digits(6)}",
            lambda: f"invoice {self.digits(3)}-{self.digits(2)}-{self.digits(4)}",
            lambda: f"license plate {r.randint(1, 9)}{''.join(r.choice(string.ascii_uppercase) for _ in range(3))}{self.digits(3)}",
            lambda: f"License key: {self.digits(4)}-ABCD-{self.digits(4)}-EFGH",
            lambda: f"driver {r.randint(10000, 999999)} assigned to route {r.randint(1, 99)}",
            lambda: f"Delivery driver ID D{self.digits(6)}",
            lambda: f"model DL-{self.digits(4)} dehumidifier",
            lambda: f"batch {self.digits(9)}",
            lambda: f"ticket #{self.digits(7)}",
            lambda: f"gift card {self.digits(16)}",
            lambda: f"qty {r.randint(1, 9)} @ ${r.randint(1, 999)}.{self.digits(2)}",
            lambda: f"business license #{self.digits(8)}",
            lambda: f"id card printer model ID-{self.digits(4)}",
            lambda: f"PO# {self.digits(9)}",
            lambda: f"ref {self.digits(3)}-{self.digits(2)}-{self.digits(4)}",
            lambda: f"Part No. DL-{self.digits(5)}",
            lambda: f"driver's seat cover {self.digits(6)}",
            lambda: "license: MIT",
            lambda: f"Route ID {self.digits(8)}",
            lambda: f"Store #{self.digits(4)}",
            lambda: f"UPC {self.digits(12)}",
            lambda: f"Lot {self.digits(9)}",
            lambda: f"Order No. {self.digits(9)}",
            lambda: f"PO 45000{self.digits(5)}",
            lambda: f"1Z {self.digits(3)} AA1 {self.digits(2)} {self.digits(4)} {self.digits(4)}",
            lambda: f"tel. {r.randint(201, 989)}.{r.randint(201, 989)}.{self.digits(4)}",
            lambda: f"2026-11-02 10:{self.digits(2)[0]}0:00",
            lambda: f"ZIP+4 {r.randint(10000, 99999)}-{self.digits(4)}",
            lambda: f"Inv# 2024-{self.digits(5)}",
            lambda: f"download https://cdn.example.com/dl/{self.digits(8)}",
            lambda: f"Customer ID {self.digits(9)}",
            lambda: f"case {self.digits(8)} opened",
            lambda: f"RMA# {self.digits(9)}",
            lambda: f"license count: {r.randint(1, 50)} seats",
            lambda: f"call us at 1-800-{r.randint(200, 999)}-{self.digits(4)}",
        ]
        return r.choice(options)()


# ---- record kinds --------------------------------------------------------------------------------

def pick_types(g):
    return g.r.sample(SCORED, g.r.randint(1, 3))


def ticket(g):
    t = Text()
    opener = {"tune": ["Customer {n} writes: ", "Ticket from {n}. ", "Hello, this is {n}. "],
              "fresh": ["RE: account update for {n}\n", "Agent notes ({n}): ", "Bonjour, je suis {n}. "],
              "last": ["Ticket #{t}: {n} writes\n", "[chat] {n}: ", "Hallo, ich bin {n}. "],
              "final": ["Escalation - {n} - ", "From: {n}\nSubject: identity check\n\n", "Olá, sou {n}. "],
              "heldout": ["Chat transcript ({n}): ", "Caller {n} verified identity. ", "Hola, soy {n}. ",
                          "Note from agent re {n} — "]}
    t.add(g.r.choice(opener[g.split]).format(n=g.name(), t=g.r.randint(1000, 99999)))
    for etype in pick_types(g):
        if etype == "US_DRIVER_LICENSE":
            st, v = g.dl()
            t.add(g.phrase(etype, st)).ent(etype, v)
        else:
            t.add(g.phrase(etype)).ent(etype, g.value(etype))
        t.add(g.r.choice([". ", ", ", "; ", " and ", "\n"]))
    if g.r.random() < 0.5:
        t.add(g.distractor() + ".")
    return {"text": t.value()}, t.labels


def log_line(g):
    t = Text()
    t.add(f"2026-11-{g.r.randint(1, 28):02d}T10:{g.r.randint(0, 59):02d}:00Z INFO kyc ")
    for etype in pick_types(g):
        key = g.r.choice(FIELDS[g.split][etype])
        if etype == "US_DRIVER_LICENSE":
            st, v = g.dl()
            if g.split == "heldout" and g.r.random() < 0.3:
                t.add(f'{key}="{st} ').ent(etype, v).add('" ')
            else:
                t.add(f"{key}=").ent(etype, v.replace(" ", "")).add(" ")
        else:
            t.add(f"{key}=").ent(etype, g.value(etype).replace(" ", "-")).add(" ")
    t.add(g.distractor().replace(" ", "_"))
    return {"text": t.value()}, t.labels


def json_record(g):
    rec, labels = {"id": g.r.randint(1, 10**9), "name": g.name()}, []
    for etype in pick_types(g):
        key = g.r.choice(FIELDS[g.split][etype])
        if etype == "US_DRIVER_LICENSE":
            st, v = g.dl()
            if g.r.random() < 0.4:
                nest = {"tune": "drivers_license", "heldout": "stateId", "fresh": "identification", "final": "license", "last": "dl"}[g.split]
                rec[nest] = {"state": st, "number": v}
                if g.split == "fresh":
                    rec[nest]["type"] = g.r.choice(["driver_license", "DL", "State ID"])
                labels.append({"type": etype, "start": 0, "end": len(v), "field": f"/{nest}/number"})
                continue
            rec[key] = v
        else:
            v = g.value(etype)
            rec[key] = v
        labels.append({"type": etype, "start": 0, "end": len(v), "field": f"/{key}"})
    rec["order_number"] = str(g.r.randint(1000, 999999999))
    rec["phone"] = g.phone()
    return {"record": rec}, labels


def csv_export(g):
    types = g.r.sample(sorted(CSV_HEADERS[g.split]), g.r.randint(1, 3))
    header = ["name"] + [CSV_HEADERS[g.split][t] for t in types] + ["order_id", "zip"]
    t = Text().add(",".join(header) + "\n")
    for _ in range(g.r.randint(1, 4)):
        t.add(g.name())
        for etype in types:
            t.add(",")
            v = g.dl()[1] if etype == "US_DRIVER_LICENSE" else g.value(etype)
            t.ent(etype, v)
        t.add(f",{g.r.randint(1000, 99999999)},{g.r.randint(10000, 99999)}-{g.digits(4)}\n")
    return {"text": t.value()}, t.labels


def decoy_text(g):
    t = Text().add("; ".join(g.distractor() for _ in range(g.r.randint(2, 5))))
    return {"text": t.value()}, []


def decoy_record(g):
    rec = {"order_number": str(g.r.randint(1000, 999999999)), "sku": g.distractor().split()[-1],
           "tracking_number": "1Z" + g.digits(16), "phone": g.phone(), "zip": f"{g.r.randint(10000, 99999)}-{g.digits(4)}",
           "invoice_id": f"INV-{g.digits(6)}", "created_at": "2026-11-02T10:00:00Z",
           "note": g.distractor(), "driver": {"id": str(g.r.randint(10000, 999999)), "vehicle_plate": "7ABC123"}}
    return {"record": rec}, []


KINDS = [(ticket, 0.3), (log_line, 0.2), (json_record, 0.2), (csv_export, 0.1), (decoy_text, 0.12), (decoy_record, 0.08)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=["tune", "heldout", "fresh", "final", "last"], required=True)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--count", type=int, default=4000)
    args = parser.parse_args()
    g = Gen(args.seed, args.split)
    funcs, weights = zip(*KINDS)
    for idx in range(args.count):
        kind = g.r.choices(funcs, weights)[0]
        body, labels = kind(g)
        name = kind.__name__
        item = {"id": f"ids-{args.split}-{idx}", "kind": ("decoy_" + name) if not name.startswith("decoy") else name}
        if not name.startswith("decoy"):
            item["kind"] = name
        item.update(body)
        item["labels"] = labels
        sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
