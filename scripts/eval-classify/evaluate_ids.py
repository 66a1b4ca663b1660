#!/usr/bin/env python3
"""Scores `leakguard classify` output on a corpus from generate_ids.py: precision, recall and F1
for the notice-triggering identifiers (same matching rule as evaluate.py: same type, same field,
overlapping span), and every finding inside the PII-free distractor records. Phone numbers in
distractors are real phone numbers and are counted apart.

Usage: evaluate_ids.py corpus.jsonl predictions.jsonl [--errors N]
"""
import argparse
import collections
import json

from evaluate import load_gold, load_predictions, overlaps

SCORED = ["US_SSN", "US_ITIN", "US_DRIVER_LICENSE", "US_PASSPORT", "US_BANK_ACCOUNT", "ABA_ROUTING"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("predictions")
    parser.add_argument("--errors", type=int, default=0, help="print up to N misses and false positives")
    args = parser.parse_args()
    gold, kinds = load_gold(args.corpus)
    preds = load_predictions(args.predictions)
    inputs = {}
    with open(args.corpus, encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            inputs[item["id"]] = item.get("text") or item.get("record")
    n_gold, n_pred, tp_gold, tp_pred = (collections.Counter() for _ in range(4))
    decoy_ids, decoy_other, decoy_phone, errors = 0, 0, 0, []
    for rid, labels in gold.items():
        predicted = [p for p in preds.get(rid, []) if p.get("score", 1.0) >= 0.5]
        decoy = kinds[rid].startswith("decoy")
        for p in predicted:
            if decoy:
                if p["type"] in SCORED:
                    decoy_ids += 1
                    errors.append(("decoy FP", rid, p))
                elif p["type"] == "PHONE":
                    decoy_phone += 1
                else:
                    decoy_other += 1
                    errors.append(("decoy other", rid, p))
            if p["type"] not in SCORED:
                continue
            n_pred[p["type"]] += 1
            if any(lab["type"] == p["type"] and overlaps(p, lab) for lab in labels):
                tp_pred[p["type"]] += 1
            elif not decoy:
                errors.append(("FP", rid, p))
        for lab in labels:
            n_gold[lab["type"]] += 1
            if any(p["type"] == lab["type"] and overlaps(p, lab) for p in predicted):
                tp_gold[lab["type"]] += 1
            else:
                errors.append(("miss", rid, lab))
    print("| Type | Gold | P | R | F1 |")
    print("|---|---|---|---|---|")
    for t in SCORED + ["ALL"]:
        if t == "ALL":
            g, n, tg, tp = (sum(c[x] for x in SCORED) for c in (n_gold, n_pred, tp_gold, tp_pred))
        else:
            g, n, tg, tp = n_gold[t], n_pred[t], tp_gold[t], tp_pred[t]
        p = tp / n if n else 1.0
        r = tg / g if g else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"| {t} | {g} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    n_decoy = sum(1 for k in kinds.values() if k.startswith("decoy"))
    print(f"PII-free records: {n_decoy}; identifier findings in them: {decoy_ids}; "
          f"other findings: {decoy_other}; phone numbers found: {decoy_phone}")
    for kind, rid, item in errors[: args.errors]:
        src = inputs[rid]
        if isinstance(src, dict):
            src = json.dumps(src, ensure_ascii=False)
        print(f"{kind} {rid} {item['type']} {item.get('field')} {item['start']}-{item['end']}: {src[:300]!r}")


if __name__ == "__main__":
    main()
