#!/usr/bin/env python3
"""Scores `leakguard detect replay` alerts against injected attacks (episode level).

An attack counts as detected when an alert whose principal shares a field value with the
attack's principal (db_user, admin_user_id, integration_id, shopify_app_id, ...) overlaps it:
detected no earlier than the attack's start (minus a 5-minute slack for minute buckets) and
started no later than its end plus a grace (2 h; 2 days for low-and-slow). Several alerts on one attack count once. An alert
that matches no attack is one false alert. Delay = first matching detection - attack start.

Usage: evaluate.py TENANT_DIR... [--json]   (each dir holds truth.json and alerts.jsonl)
"""

import json
import statistics
import sys
from datetime import datetime

GRACE = {"low_and_slow": 2 * 86400}
DEFAULT_GRACE = 2 * 3600
SLACK = 300


def parse_time(text):
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timestamp() - datetime(1970, 1, 1).timestamp())


def principal_matches(attack, alert):
    principal = alert.get("principal") or {}
    return any(principal.get(k) == v for k, v in attack["principal"].items())


def score_tenant(directory):
    with open(f"{directory}/truth.json") as f:
        truth = json.load(f)
    alerts = []
    with open(f"{directory}/alerts.jsonl") as f:
        for line in f:
            line = line.strip()
            if line:
                alerts.append(json.loads(line))
    for alert in alerts:
        alert["_detected"] = parse_time(alert["detected_at"])
        alert["_started"] = parse_time(alert["started_at"])
    used = set()
    results = []
    for attack in truth["attacks"]:
        grace = GRACE.get(attack["family"], DEFAULT_GRACE)
        lo, hi = attack["start"] - SLACK, attack["end"] + grace
        hits = [i for i, a in enumerate(alerts)
                if principal_matches(attack, a) and a["_detected"] >= lo and a["_started"] <= hi]
        used.update(hits)
        delay = min(alerts[i]["_detected"] for i in hits) - attack["start"] if hits else None
        results.append({"family": attack["family"], "detected": bool(hits),
                        "delay_s": max(0, delay) if delay is not None else None,
                        "rules": sorted({alerts[i]["rule"] for i in hits})})
    false_alerts = [a for i, a in enumerate(alerts) if i not in used]
    return {"days": truth["days"], "attacks": results, "false_alerts": false_alerts}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tenants = [score_tenant(d) for d in args]
    families = {}
    for tenant in tenants:
        for result in tenant["attacks"]:
            families.setdefault(result["family"], []).append(result)
    weeks = sum(t["days"] for t in tenants) / 7.0
    n_false = sum(len(t["false_alerts"]) for t in tenants)
    rows = []
    all_delays = []
    for family in sorted(families):
        results = families[family]
        detected = [r for r in results if r["detected"]]
        delays = [r["delay_s"] for r in detected]
        all_delays.extend(delays)
        rows.append({
            "family": family,
            "attacks": len(results),
            "detected": len(detected),
            "recall": len(detected) / len(results),
            "median_delay_min": statistics.median(delays) / 60 if delays else None,
        })
    summary = {
        "tenants": len(tenants),
        "tenant_weeks": round(weeks, 2),
        "false_alerts": n_false,
        "false_alerts_per_tenant_week": round(n_false / weeks, 3) if weeks else None,
        "median_delay_min": statistics.median(all_delays) / 60 if all_delays else None,
        "median_delay_min_without_low_and_slow": statistics.median(
            [r["delay_s"] for f, rs in families.items() if f != "low_and_slow" for r in rs if r["detected"]]
        ) / 60 if all_delays else None,
        "min_recall": min(r["recall"] for r in rows) if rows else None,
        "families": rows,
        "false_alert_rules": sorted({a["rule"] for t in tenants for a in t["false_alerts"]}),
    }
    if "--json" in sys.argv:
        print(json.dumps(summary, indent=1))
        return
    print("| Family | Attacks | Detected | Recall | Median delay (min) |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        delay = "–" if r["median_delay_min"] is None else f"{r['median_delay_min']:.1f}"
        print(f"| {r['family']} | {r['attacks']} | {r['detected']} | {r['recall']:.2f} | {delay} |")
    print()
    print(f"Tenants: {summary['tenants']}, tenant-weeks: {summary['tenant_weeks']}, "
          f"false alerts: {n_false} ({summary['false_alerts_per_tenant_week']} per tenant-week)")
    if summary["median_delay_min"] is not None:
        print(f"Median detection delay: {summary['median_delay_min']:.1f} min "
              f"(without low-and-slow: {summary['median_delay_min_without_low_and_slow']:.1f} min)")
    for tenant, directory in zip(tenants, args):
        for alert in tenant["false_alerts"]:
            print(f"false alert [{directory}]: {alert['rule']} {alert['detected_at']} {alert['explanation']}")
    ok = (summary["min_recall"] or 0) >= 0.95 and (summary["false_alerts_per_tenant_week"] or 0) <= 1.0 \
        and (summary["median_delay_min"] or 0) <= 10
    print("targets met" if ok else "targets NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
