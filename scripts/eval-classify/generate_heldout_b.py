#!/usr/bin/env python3
"""Held-out set B: formats written after every classifier change, scored once and not tuned on.

Shopify customer CSV exports (the admin's "Export customers" column names), web server access
log lines with query strings, Stripe-style charge objects, email threads with signature blocks,
and a PII-free kind of analytics log lines. Values come from generate.py's generators.

Usage: generate_heldout_b.py --seed 777 --count 1000 > heldout_b.jsonl
"""
import argparse
import json
import sys
import urllib.parse

from generate import Gen, Text, whole, STATES

CSV_HEADER = ["First Name", "Last Name", "Email", "Company", "Address1", "Address2", "City", "Province Code",
              "Country Code", "Zip", "Phone", "Accepts Marketing", "Total Spent", "Total Orders", "Tags"]


def csv_export(g):
    t = Text().add(",".join(CSV_HEADER) + "\n")
    for _ in range(g.r.randint(1, 4)):
        first, last = g.person()
        t.ent("PERSON", first).add(",").ent("PERSON", last).add(",").ent("EMAIL", g.email(first, last)).add(",")
        t.add(g.r.choice(["", g.fake.company().replace(",", "")]) + ",")
        t.add('"').ent("STREET_ADDRESS", g.street()).add('",')
        unit = g.r.choice(["", f"Apt {g.r.randint(1, 99)}"])
        if unit:
            t.ent("STREET_ADDRESS", unit)
        t.add(f",{g.fake.city()},{g.r.choice(STATES)},US,'{g.fake.zipcode()},")
        t.ent("PHONE", g.phone(bare_ok=False)).add(f",{g.r.choice(['yes', 'no'])},{g.price()[1:]},{g.r.randint(0, 40)},vip\n")
    return {"text": t.value()}, t.labels


def access_log(g):
    first, last = g.person()
    t = Text()
    t.ent("IP_ADDRESS", g.fake.ipv4_public()).add(" - - [28/Nov/2026:10:%02d:%02d +0000] " % (g.r.randint(0, 59), g.r.randint(0, 59)))
    kind = g.r.choice(["login", "newsletter", "track"])
    if kind == "login":
        t.add('"POST /account/login?email=')
        email = g.email(first, last)
        t.ent("EMAIL", urllib.parse.quote(email, safe="") if g.r.random() < 0.5 else email)
        t.add("&password=").ent("PASSWORD", g.password().replace("&", "").replace(" ", "") or "pw12345").add(' HTTP/1.1" 302 0')
    elif kind == "newsletter":
        t.add('"GET /contact?first_name=').ent("PERSON", first).add("&phone=")
        a, e, s = g.nanp()
        t.ent("PHONE", f"{a}{e}{s}").add(' HTTP/1.1" 200 1532')
    else:
        t.add(f'"GET /apps/track?order={g.r.randint(1001, 99999)}&tracking={g.tracking().replace(" ", "")} HTTP/1.1" 200 88')
    t.add(' "-" "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)"')
    return {"text": t.value()}, t.labels


def stripe_charge(g):
    first, last = g.person()
    labels = []
    card, brand = g.card()
    digits = card.replace(" ", "").replace("-", "")
    rec = {"id": "ch_" + "".join(g.r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24)), "object": "charge",
           "amount": g.r.randint(100, 99999), "currency": "usd", "created": g.r.randint(1672531200, 1798761600),
           "billing_details": {"name": f"{first} {last}", "email": g.email(first, last), "phone": g.phone(bare_ok=False),
                               "address": {"line1": g.street(), "line2": None, "city": g.fake.city(), "postal_code": g.fake.zipcode(), "state": g.r.choice(STATES), "country": "US"}},
           "payment_method_details": {"card": {"brand": brand, "last4": digits[-4:], "exp_month": g.r.randint(1, 12), "exp_year": g.r.randint(2026, 2031), "fingerprint": "".join(g.r.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789") for _ in range(16))}},
           "receipt_url": "https://pay.example.com/receipts/" + "".join(g.r.choice("abcdef0123456789") for _ in range(20))}
    b = "/billing_details"
    whole(labels, f"{b}/name", "PERSON", rec["billing_details"]["name"])
    whole(labels, f"{b}/email", "EMAIL", rec["billing_details"]["email"])
    whole(labels, f"{b}/phone", "PHONE", rec["billing_details"]["phone"])
    whole(labels, f"{b}/address/line1", "STREET_ADDRESS", rec["billing_details"]["address"]["line1"])
    return {"record": rec}, labels


def email_thread(g):
    first, last = g.person()
    t = Text()
    t.add("Subject: Re: Order #%d\n\nHello support,\n\n" % g.r.randint(1001, 99999))
    t.add(g.r.choice(["The package never arrived. ", "I need to change my shipping address. ", "Please cancel my subscription. "]))
    if g.r.random() < 0.5:
        t.add("Please send it to ").ent("STREET_ADDRESS", g.street() + ", " + g.city_line()).add(" instead. ")
    if g.r.random() < 0.4:
        t.add("The account email is ").ent("EMAIL", g.email(first, last)).add(". ")
    t.add("\n\n" + g.r.choice(["Best regards,", "Kind regards,", "Thanks,", "Sincerely,"]) + "\n")
    t.ent("PERSON", f"{first} {last}").add("\n")
    if g.r.random() < 0.7:
        t.add(g.r.choice(["Mobile: ", "Tel: ", "Cell "])).ent("PHONE", g.phone(bare_ok=False)).add("\n")
    return {"text": t.value()}, t.labels


def decoy_analytics(g):
    lines = []
    for _ in range(g.r.randint(2, 5)):
        lines.append(
            f"ts={g.r.randint(1672531200, 1798761600)} session={''.join(g.r.choice('abcdef0123456789') for _ in range(16))} "
            f"page=/products/{g.fake.slug()} variant={g.r.randint(10**13, 10**14)} qty={g.r.randint(1, 4)} price={g.price()[1:]} "
            f"utm_source={g.r.choice(['google', 'meta', 'email', 'tiktok'])} build={g.r.randint(1, 9)}.{g.r.randint(0, 30)}.{g.r.randint(0, 99)}")
    return {"text": "\n".join(lines)}, []


KINDS = [("csv_export", csv_export, 2), ("access_log", access_log, 3), ("stripe_charge", stripe_charge, 2),
         ("email_thread", email_thread, 2), ("decoy_analytics", decoy_analytics, 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    g = Gen(args.seed)
    names, weights = [k for k, _, _ in KINDS], [w for _, _, w in KINDS]
    funcs = {k: f for k, f, _ in KINDS}
    for idx in range(args.count):
        kind = g.r.choices(names, weights)[0]
        body, labels = funcs[kind](g)
        kind_out = "decoy_shipping_log" if kind == "decoy_analytics" else kind
        sys.stdout.write(json.dumps({"id": f"b{args.seed}-{idx}", "kind": kind_out, **body, "labels": labels}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
