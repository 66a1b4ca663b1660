#!/usr/bin/env python3
"""Score predictions against a labeled corpus: precision, recall and F1 per entity type.

Matching rule (spec §3.5): a prediction is correct when it has the gold label's type, is in the
same field (records) and overlaps the gold span by at least one character. Precision counts
predictions that match some gold span; recall counts gold spans matched by some prediction.
"exact" is the share of matched predictions whose boundaries equal a gold span.

Usage: evaluate.py corpus.jsonl NAME=predictions.jsonl [NAME=predictions.jsonl ...]
           [--thresholds 0.5] [--json out.json] [--markdown]
"""
import argparse
import collections
import json
import sys

TYPES = ["PERSON", "EMAIL", "PHONE", "US_SSN", "US_ITIN", "CREDIT_CARD", "CARD_CVV", "ABA_ROUTING",
         "US_BANK_ACCOUNT", "IBAN", "US_DRIVER_LICENSE", "US_PASSPORT", "IP_ADDRESS", "DATE_OF_BIRTH",
         "STREET_ADDRESS", "USERNAME", "PASSWORD"]
DECOY_KINDS = {"decoy_shipping_log", "decoy_product"}


def load_gold(path):
    gold, kinds = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            gold[item["id"]] = item["labels"]
            kinds[item["id"]] = item["kind"]
    return gold, kinds


def load_predictions(path):
    preds = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            preds[item.get("id")] = item.get("entities", [])
    return preds


def overlaps(a, b):
    return a.get("field") == b.get("field") and a["start"] < b["end"] and b["start"] < a["end"]


def score(gold, kinds, preds, threshold):
    n_gold = collections.Counter()
    n_pred = collections.Counter()
    tp_pred = collections.Counter()
    tp_gold = collections.Counter()
    exact = collections.Counter()
    decoy_fp = 0
    for rid, labels in gold.items():
        predicted = [p for p in preds.get(rid, []) if p.get("score", 1.0) >= threshold and p["type"] in TYPES]
        for lab in labels:
            n_gold[lab["type"]] += 1
            if any(p["type"] == lab["type"] and overlaps(p, lab) for p in predicted):
                tp_gold[lab["type"]] += 1
        for p in predicted:
            n_pred[p["type"]] += 1
            same = [lab for lab in labels if lab["type"] == p["type"] and overlaps(p, lab)]
            if same:
                tp_pred[p["type"]] += 1
                if any(lab["start"] == p["start"] and lab["end"] == p["end"] for lab in same):
                    exact[p["type"]] += 1
            if kinds[rid] in DECOY_KINDS:
                decoy_fp += 1
    rows = {}
    for t in TYPES + ["ALL"]:
        if t == "ALL":
            g, n, tpp, tpg, ex = (sum(c.values()) for c in (n_gold, n_pred, tp_pred, tp_gold, exact))
        else:
            g, n, tpp, tpg, ex = n_gold[t], n_pred[t], tp_pred[t], tp_gold[t], exact[t]
        p = tpp / n if n else None
        r = tpg / g if g else None
        if g == 0 and n == 0:
            f1 = None
        else:
            f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else 0.0
        rows[t] = {"gold": g, "predicted": n, "precision": p, "recall": r, "f1": f1, "exact": ex / tpp if tpp else None}
    return {"threshold": threshold, "types": rows, "decoy_false_positives": decoy_fp}


def fmt(x):
    return "—" if x is None else f"{x:.3f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("predictions", nargs="+", help="NAME=path")
    parser.add_argument("--thresholds", default="0.5")
    parser.add_argument("--json")
    args = parser.parse_args()
    gold, kinds = load_gold(args.corpus)
    thresholds = [float(x) for x in args.thresholds.split(",")]
    report = {"corpus": args.corpus, "records": len(gold), "decoy_records": sum(1 for k in kinds.values() if k in DECOY_KINDS), "tools": {}}
    for spec in args.predictions:
        name, path = spec.split("=", 1)
        preds = load_predictions(path)
        report["tools"][name] = [score(gold, kinds, preds, t) for t in thresholds]
    names = list(report["tools"])
    header = "| Type | Gold | " + " | ".join(f"{n} P | {n} R | {n} F1" for n in names) + " |"
    print(header)
    print("|" + "---|" * (2 + 3 * len(names)))
    for t in TYPES + ["ALL"]:
        cells = []
        for n in names:
            # Ties go to the highest threshold, the one a user would pick.
            best = max(report["tools"][n], key=lambda s: (s["types"][t]["f1"] or 0.0, s["threshold"]))
            row = best["types"][t]
            suffix = "" if len(thresholds) == 1 or row["f1"] is None else f" @{best['threshold']}"
            cells += [fmt(row["precision"]), fmt(row["recall"]), fmt(row["f1"]) + suffix]
        gold_n = report["tools"][names[0]][0]["types"][t]["gold"]
        print(f"| {t} | {gold_n} | " + " | ".join(cells) + " |")
    for n in names:
        for s in report["tools"][n]:
            print(f"{n} @≥{s['threshold']}: overall F1 {s['types']['ALL']['f1']:.3f}, false positives in {report['decoy_records']} PII-free records: {s['decoy_false_positives']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
