#!/usr/bin/env python3
"""A held-out labeled corpus in formats and phrasings the classifier was NOT developed against.

Same value generators as generate.py (valid checksums, same decoys) but different shapes:
Shopify Admin GraphQL (camelCase keys, gids), Magento quote columns (customer_firstname, …),
pipe-delimited logs without keys, JSON log lines embedded as text, chat transcripts with other
wording, and a decoy kind with UUIDs, gids, hashes and version strings. Written after the
classifier was tuned on generate.py's dev corpus and only scored, never tuned on.

Usage: generate_heldout.py --seed 4242 --count 2000 > heldout.jsonl
"""
import argparse
import json
import sys
import uuid

from generate import Gen, Text, whole, STATES


def graphql_customer(g):
    first, last = g.person()
    labels = []
    email, phone, street = g.email(first, last), g.phone(bare_ok=False), g.street()
    rec = {"data": {"customer": {
        "id": f"gid://shopify/Customer/{g.r.randint(10**12, 10**13)}", "firstName": first, "lastName": last,
        "displayName": f"{first} {last}", "email": email, "phone": phone, "numberOfOrders": str(g.r.randint(0, 30)),
        "amountSpent": {"amount": g.price()[1:], "currencyCode": "USD"}, "createdAt": g.timestamp(),
        "defaultAddress": {"address1": street, "city": g.fake.city(), "provinceCode": g.r.choice(STATES), "zip": g.fake.zipcode(), "phone": phone},
        "tags": ["wholesale"], "verifiedEmail": True,
    }}}
    c = "/data/customer"
    whole(labels, f"{c}/firstName", "PERSON", first)
    whole(labels, f"{c}/lastName", "PERSON", last)
    whole(labels, f"{c}/displayName", "PERSON", f"{first} {last}")
    whole(labels, f"{c}/email", "EMAIL", email)
    whole(labels, f"{c}/phone", "PHONE", phone)
    whole(labels, f"{c}/defaultAddress/address1", "STREET_ADDRESS", street)
    whole(labels, f"{c}/defaultAddress/phone", "PHONE", phone)
    return {"record": rec}, labels


def magento_quote(g):
    first, last = g.person()
    labels = []
    rec = {"entity_id": str(g.r.randint(1, 10**6)), "store_id": "1", "created_at": g.timestamp(), "items_count": str(g.r.randint(1, 5)),
           "grand_total": g.price()[1:], "customer_email": g.email(first, last), "customer_firstname": first, "customer_lastname": last,
           "customer_dob": g.dob() if g.r.random() < 0.5 else None, "remote_ip": g.ip(), "reserved_order_id": str(g.r.randint(10**8, 10**9)),
           "customer_taxvat": g.ssn() if g.r.random() < 0.3 else None}
    whole(labels, "/customer_email", "EMAIL", rec["customer_email"])
    whole(labels, "/customer_firstname", "PERSON", first)
    whole(labels, "/customer_lastname", "PERSON", last)
    if rec["customer_dob"]:
        whole(labels, "/customer_dob", "DATE_OF_BIRTH", rec["customer_dob"])
    whole(labels, "/remote_ip", "IP_ADDRESS", rec["remote_ip"])
    if rec["customer_taxvat"]:
        whole(labels, "/customer_taxvat", "US_SSN", rec["customer_taxvat"])
    return {"record": rec}, labels


def pipe_log(g):
    first, last = g.person()
    t = Text()
    t.add(g.timestamp() + "|checkout|").ent("EMAIL", g.email(first, last)).add("|")
    a, e, s = g.nanp()
    t.ent("PHONE", g.r.choice([f"+1 {a} {e} {s}", f"({a}) {e}-{s}", f"{a}-{e}-{s}"])).add("|").ent("IP_ADDRESS", g.ip())
    t.add(f"|ORD-{g.r.randint(10000, 99999)}|{g.price()}")
    return {"text": t.value()}, t.labels


def json_log(g):
    first, last = g.person()
    t = Text()
    t.add('{"level":"warn","ts":"' + g.timestamp() + '","msg":"login failed","user":"').ent("USERNAME", g.username(first, last))
    t.add('","pass":"').ent("PASSWORD", g.password()).add('","client_ip":"').ent("IP_ADDRESS", g.ip()).add('"}')
    return {"text": t.value()}, t.labels


def chat(g):
    first, last = g.person()
    t = Text()
    t.add("Agent: How can I help? Customer: Hi, I'm ").ent("PERSON", f"{first} {last}").add(". ")
    for opt in g.r.sample(["ssn", "bank", "card", "dl", "addr", "dob", "passport"], g.r.randint(2, 4)):
        if opt == "ssn":
            t.add("my social is ").ent("US_SSN", g.ssn()).add(". ")
        elif opt == "bank":
            t.add("routing # ").ent("ABA_ROUTING", g.aba()).add(" / acct # ").ent("US_BANK_ACCOUNT", g.bank_account()).add(". ")
        elif opt == "card":
            card, brand = g.card()
            t.add("CC: ").ent("CREDIT_CARD", card).add(f"; exp 0{g.r.randint(1, 9)}/2{g.r.randint(6, 9)}; CVC ").ent("CARD_CVV", g.cvv(brand)).add(". ")
        elif opt == "dl":
            state, dl = g.driver_license()
            t.add(f"DL number {state} ").ent("US_DRIVER_LICENSE", dl).add(". ")
        elif opt == "addr":
            t.add("I live at ").ent("STREET_ADDRESS", g.street() + ", " + g.city_line()).add(". ")
        elif opt == "dob":
            t.add("birthday: ").ent("DATE_OF_BIRTH", g.dob()).add(". ")
        else:
            t.add("passport: ").ent("US_PASSPORT", g.passport()).add(". ")
    t.add("Agent: Thanks, verified.")
    return {"text": t.value()}, t.labels


def decoy_ids(g):
    parts = [
        f"gid://shopify/Order/{g.r.randint(10**12, 10**13)}", f"request {uuid.UUID(int=g.r.getrandbits(128))}",
        f"sha256 {''.join(g.r.choice('0123456789abcdef') for _ in range(64))}", f"app v{g.r.randint(1, 9)}.{g.r.randint(0, 20)}.{g.r.randint(0, 9)}",
        f"pi_{''.join(g.r.choice('ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789') for _ in range(24))}",
        f"tracking {g.tracking()}", f"batch {g.r.randint(10**8, 10**9)} at {g.timestamp()}", f"total {g.price()}",
    ]
    g.r.shuffle(parts)
    return {"text": " ".join(parts[: g.r.randint(3, 6)])}, []


KINDS = [("graphql_customer", graphql_customer, 2), ("magento_quote", magento_quote, 2), ("pipe_log", pipe_log, 2),
         ("json_log", json_log, 2), ("chat", chat, 3), ("decoy_ids", decoy_ids, 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    g = Gen(args.seed)
    names, weights = [k for k, _, _ in KINDS], [w for _, _, w in KINDS]
    funcs = {k: f for k, f, _ in KINDS}
    for idx in range(args.count):
        kind = g.r.choices(names, weights)[0]
        body, labels = funcs[kind](g)
        # decoy_ids counts as a PII-free kind for the evaluator.
        kind_out = "decoy_shipping_log" if kind == "decoy_ids" else kind
        sys.stdout.write(json.dumps({"id": f"h{args.seed}-{idx}", "kind": kind_out, **body, "labels": labels}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
