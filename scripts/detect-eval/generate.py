#!/usr/bin/env python3
"""Synthetic Magento shop traffic with injected exfiltration attacks and ground truth.

Writes, for one tenant, into --out:
  general.log    MariaDB general query log (storefront, admins with their own rhythms,
                 integrations, cron, a nightly mysqldump backup, a weekly order export,
                 a sale day), sqlcommenter tags as the LeakGuard module writes them
  admin.log      the Magento module's admin-action JSON lines (logins, record views, exports)
  shopify.jsonl  Shopify webhook lines for the replay ({"source":"shopify",...})
  truth.json     injected attacks: family, principal fields, start and end (unix seconds)

Attacks of every family are injected after a warm-up week. Deterministic for a seed.
"""

import argparse
import json
import os
import random
from datetime import datetime, timezone

DAY = 86400
HOUR = 3600
MIN = 60

FAMILIES = [
    "mass_extraction",
    "first_seen_principal",
    "unexpected_dump",
    "into_outfile",
    "export_beyond_baseline",
    "integration_rest_volume",
    "shopify_bulk_export",
    "scope_grant",
    "login_burst_then_success",
    "logging_disabled",
    "low_and_slow",
]

DUMP_TABLES = [
    "customer_entity", "customer_entity_varchar", "customer_address_entity", "customer_grid_flat",
    "sales_order", "sales_order_address", "sales_order_payment", "sales_order_item", "quote",
    "catalog_product_entity", "catalog_category_entity", "cms_page", "core_config_data",
    "admin_user", "newsletter_subscriber", "url_rewrite", "eav_attribute",
]


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Shop:
    def __init__(self, seed, days, start):
        self.rng = random.Random(seed)
        self.days = days
        self.start = start
        self.sql = []  # (t, thread, statement)
        self.admin = []  # (t, dict)
        self.shopify = []  # (t, dict)
        self.truth = []
        self.threads = {}
        self.next_thread = 100
        self.sale_day = self.rng.randint(15, days - 5)

    # -- helpers ---------------------------------------------------------------------
    def thread(self, user, host):
        key = (user, host)
        if key not in self.threads:
            self.next_thread += 1
            self.threads[key] = self.next_thread
            self.sql.append((self.start - 1, self.next_thread, None, f"{user}@{host} on magento using TCP/IP"))
        return self.threads[key]

    def q(self, t, user, host, statement, tag=None):
        thread = self.thread(user, host)
        if tag:
            statement = f"/*{tag}*/ {statement}"
        self.sql.append((t, thread, statement, None))

    def admin_event(self, t, **fields):
        fields["ts"] = iso(t)
        self.admin.append((t, fields))

    def page(self, t, admin_id, route, tables, n):
        tag = f"lg_admin='{admin_id}',lg_route='{route}'"
        for i in range(n):
            table = tables[i % len(tables)]
            self.q(t + i, "magento", "127.0.0.1",
                   f"SELECT main_table.* FROM {table} AS main_table WHERE main_table.entity_id > {self.rng.randint(1, 90000)} LIMIT 20", tag)

    # -- benign traffic --------------------------------------------------------------
    def storefront(self, day0, day):
        weekday = (day + 0) % 7
        sale = 4.0 if day == self.sale_day else 1.0
        for minute in range(24 * 60):
            hour = minute // 60
            diurnal = [0.2, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.5, 0.8, 1.0, 1.1, 1.2, 1.2, 1.1,
                       1.0, 1.0, 1.0, 1.1, 1.3, 1.5, 1.5, 1.2, 0.8, 0.4][hour]
            if weekday >= 5:
                diurnal *= 1.2
            views = int(self.rng.expovariate(1.0) * 4 * diurnal * sale)
            t = day0 + minute * MIN
            for v in range(views):
                s = t + self.rng.randint(0, 59)
                self.q(s, "magento", "127.0.0.1", f"SELECT e.* FROM catalog_product_entity AS e WHERE e.entity_id = {self.rng.randint(1, 5000)}")
                r = self.rng.random()
                if r < 0.3:
                    self.q(s, "magento", "127.0.0.1", f"SELECT * FROM quote WHERE entity_id = {self.rng.randint(1, 99999)}")
                if r < 0.15:
                    self.q(s, "magento", "127.0.0.1", f"SELECT * FROM customer_entity WHERE entity_id = {self.rng.randint(1, 90000)}")
                if r < 0.05:
                    self.q(s, "magento", "127.0.0.1", f"SELECT * FROM sales_order WHERE customer_id = {self.rng.randint(1, 90000)}")
                    self.q(s, "magento", "127.0.0.1", f"SELECT * FROM sales_order_address WHERE parent_id = {self.rng.randint(1, 90000)}")

    def admins(self, day0, day, slow_boost):
        weekday = day % 7
        profiles = [
            # id, name, days, (from, to) hours, pages per hour
            (1, "owner", range(0, 5), (9, 17), 6),
            (2, "evening", range(0, 7), (18, 22), 4),
            (3, "orders", range(0, 5), (8, 12), 8),
            (4, "parttime", (1, 3), (13, 16), 5),
        ]
        for admin_id, name, days, (h0, h1), per_hour in profiles:
            if weekday not in days or self.rng.random() < 0.1:
                continue
            start = day0 + h0 * HOUR + self.rng.randint(0, 40) * MIN
            ip = f"10.1.0.{admin_id}"
            if self.rng.random() < 0.1:
                self.admin_event(start - 20, admin_user_id=admin_id, admin_username=name, ip=ip,
                                 event="admin_login_failure", result="failure")
            self.admin_event(start, admin_user_id=admin_id, admin_username=name, ip=ip,
                             event="admin_login_success", result="success")
            end = day0 + h1 * HOUR - self.rng.randint(0, 40) * MIN
            t = start
            boost = slow_boost.get((admin_id, day), 1.0)
            while t < end:
                pages = max(0, int(self.rng.gauss(per_hour * boost, per_hour * 0.3)))
                for _ in range(pages):
                    s = t + self.rng.randint(0, HOUR - 60)
                    if s >= end:
                        continue
                    route, tables = self.rng.choice([
                        ("customer_index_index", ["customer_grid_flat", "customer_entity"]),
                        ("sales_order_index", ["sales_order_grid", "sales_order"]),
                        ("catalog_product_index", ["catalog_product_entity"]),
                        ("customer_index_edit", ["customer_entity", "customer_address_entity"]),
                    ])
                    self.page(s, admin_id, route, tables, self.rng.randint(3, 6))
                    if route == "customer_index_edit":
                        self.admin_event(s, admin_user_id=admin_id, admin_username=name, ip=ip,
                                         event="record_view", entity_type="customer",
                                         entity_ids=[self.rng.randint(1, 90000)], count=1)
                t += HOUR
        # Weekly order export by the orders admin, Monday 10:00.
        if weekday == 0:
            t = day0 + 10 * HOUR + self.rng.randint(0, 20) * MIN
            n = self.rng.randint(2500, 3500)
            self.page(t, 3, "mui_export_gridToCsv", ["sales_order_grid"], 30)
            self.admin_event(t + 40, admin_user_id=3, admin_username="orders", ip="10.1.0.3",
                             event="grid_export", entity_type="order", count=n,
                             details={"namespace": "sales_order_grid"})

    def integrations(self, day0, day):
        # ERP order sync every 15 minutes, marketing customer sync hourly.
        for slot in range(96):
            t = day0 + slot * 15 * MIN + self.rng.randint(0, 90)
            for _ in range(self.rng.randint(3, 6)):
                self.q(t, "magento", "127.0.0.1", f"SELECT * FROM sales_order WHERE updated_at > '2026-01-01' LIMIT 50",
                       "lg_integration='1',lg_route='V1/orders'")
        for hour in range(24):
            t = day0 + hour * HOUR + 5 * MIN + self.rng.randint(0, 120)
            for _ in range(self.rng.randint(6, 12)):
                self.q(t, "magento", "127.0.0.1", f"SELECT * FROM customer_entity WHERE updated_at > '2026-01-01' LIMIT 100",
                       "lg_integration='2',lg_route='V1/customers/search'")

    def cron(self, day0, day):
        for minute in range(0, 24 * 60, 5):
            self.q(day0 + minute * MIN, "magento", "localhost", "SELECT * FROM cron_schedule WHERE status = 'pending'")
        # Nightly reindex of the customer grid at 03:00.
        t = day0 + 3 * HOUR + self.rng.randint(0, 5) * MIN
        for i in range(150):
            self.q(t + i * 4, "magento", "localhost", f"SELECT * FROM customer_entity WHERE entity_id > {i * 600} LIMIT 600")

    def backup(self, day0, day):
        t = day0 + HOUR + 30 * MIN + self.rng.randint(-6, 6) * MIN
        for i, table in enumerate(DUMP_TABLES):
            self.q(t + i * 20, "backup", "localhost", f"SELECT /*!40001 SQL_NO_CACHE */ * FROM `{table}`")

    def shopify_daily(self, day0, day):
        t = day0 + 4 * HOUR + self.rng.randint(0, 10) * MIN
        self.shopify.append((t, {"source": "shopify", "topic": "bulk_operations/finish",
                                 "payload": {"app_id": "101", "query": "{ orders(query: \"updated_at:>yesterday\") { edges { node { id } } } }",
                                             "object_count": self.rng.randint(300, 900), "completed_at": iso(t)},
                                 "received_at": iso(t)}))
        if day % 7 == 2:
            t = day0 + 12 * HOUR
            self.shopify.append((t, {"source": "shopify", "topic": "app/scopes_update",
                                     "payload": {"app_id": "101", "previous": ["read_orders", "read_products"],
                                                 "current": ["read_orders", "read_products"]},
                                     "received_at": iso(t)}))

    # -- attacks ---------------------------------------------------------------------
    def attack(self, family, t):
        rng = self.rng
        if family == "mass_extraction":
            admin_id = rng.choice([1, 2, 4])
            minutes = rng.randint(20, 50)
            for m in range(minutes):
                for k in range(rng.randint(15, 25)):
                    self.q(t + m * MIN + k, "magento", "127.0.0.1",
                           f"SELECT * FROM customer_entity WHERE entity_id > {k * 1000} LIMIT 1000",
                           f"lg_admin='{admin_id}',lg_route='customer_index_index'")
            return {"admin_user_id": str(admin_id)}, t + minutes * MIN
        if family == "first_seen_principal":
            user = rng.choice(["analytics", "tmp_export", "svc_report"])
            for k in range(rng.randint(3, 30)):
                self.q(t + k * 20, user, "10.0.0.50", f"SELECT * FROM customer_address_entity WHERE entity_id > {k * 500} LIMIT 500")
            return {"db_user": user}, t + 30 * 20
        if family == "unexpected_dump":
            user = rng.choice(["backup", "devops"])
            for i, table in enumerate(DUMP_TABLES):
                self.q(t + i * 15, user, "10.0.0.9" if user != "backup" else "localhost",
                       f"SELECT /*!40001 SQL_NO_CACHE */ * FROM `{table}`")
            return {"db_user": user}, t + len(DUMP_TABLES) * 15
        if family == "into_outfile":
            self.q(t, "magento", "127.0.0.1", "SELECT email, firstname, lastname FROM customer_entity INTO OUTFILE '/tmp/out.csv'")
            return {"db_user": "magento"}, t + 60
        if family == "export_beyond_baseline":
            admin_id = rng.choice([1, 2, 4])
            n = rng.randint(15000, 60000)
            self.admin_event(t, admin_user_id=admin_id, admin_username="x", ip=f"203.0.113.{admin_id}",
                             event="grid_export", entity_type="customer", count=n,
                             details={"namespace": "customer_listing"})
            return {"admin_user_id": str(admin_id)}, t + 5 * MIN
        if family == "integration_rest_volume":
            integration = "2"
            minutes = rng.randint(45, 120)
            for m in range(minutes):
                for k in range(rng.randint(8, 14)):
                    self.q(t + m * MIN + k, "magento", "127.0.0.1",
                           f"SELECT * FROM customer_entity WHERE entity_id > {k * 100} LIMIT 100",
                           "lg_integration='2',lg_route='V1/customers/search'")
            return {"integration_id": integration}, t + minutes * MIN
        if family == "shopify_bulk_export":
            app = str(rng.randint(200, 299))
            self.shopify.append((t, {"source": "shopify", "topic": "bulk_operations/finish",
                                     "payload": {"app_id": app, "query": "{ customers { edges { node { id email } } } }",
                                                 "object_count": rng.randint(5000, 40000), "completed_at": iso(t)},
                                     "received_at": iso(t)}))
            return {"shopify_app_id": app}, t + 60
        if family == "scope_grant":
            app = str(rng.randint(300, 399))
            self.shopify.append((t, {"source": "shopify", "topic": "app/scopes_update",
                                     "payload": {"app_id": app, "previous": ["read_products"],
                                                 "current": ["read_products", rng.choice(["read_customers", "read_orders"])]},
                                     "received_at": iso(t)}))
            return {"shopify_app_id": app}, t + 60
        if family == "login_burst_then_success":
            admin_id = rng.choice([1, 2, 3, 4])
            ip = f"198.51.100.{rng.randint(2, 250)}"
            n = rng.randint(8, 30)
            for k in range(n):
                self.admin_event(t + k * 10, ip=ip, admin_username="guess", event="admin_login_failure", result="failure")
            self.admin_event(t + n * 10 + 5, admin_user_id=admin_id, admin_username="x", ip=ip,
                             event="admin_login_success", result="success")
            return {"admin_user_id": str(admin_id)}, t + n * 10 + 5
        if family == "logging_disabled":
            self.q(t, "root", "localhost", "SET GLOBAL general_log = 'OFF'")
            return {"db_user": "root"}, t + 60
        raise ValueError(family)

    def generate(self):
        warmup = 8
        plan = {}
        days_for_attacks = list(range(warmup, self.days - 7))
        for family in FAMILIES:
            day = self.rng.choice(days_for_attacks)
            plan.setdefault(day, []).append(family)
        # Low and slow: admin 1 reads 2.5-4x their usual pages for 6 working days.
        slow_boost = {}
        slow_start = None
        for day, families in plan.items():
            if "low_and_slow" in families:
                slow_start = day
                factor = self.rng.uniform(2.5, 4.0)
                for d in range(day, day + 9):
                    slow_boost[(1, d)] = factor
        for day in range(self.days):
            day0 = self.start + day * DAY
            self.storefront(day0, day)
            self.admins(day0, day, slow_boost)
            self.integrations(day0, day)
            self.cron(day0, day)
            self.backup(day0, day)
            self.shopify_daily(day0, day)
            for family in plan.get(day, []):
                if family == "low_and_slow":
                    continue
                hour = self.rng.choice([0, 2, 5, 13, 15, 20, 23]) if family != "unexpected_dump" else self.rng.choice([11, 14, 16, 21])
                t = day0 + hour * HOUR + self.rng.randint(0, 50) * MIN
                principal, end = self.attack(family, t)
                self.truth.append({"family": family, "principal": principal, "start": t, "end": end,
                                   "start_text": iso(t)})
        if slow_start is not None:
            first = next(d for d in range(slow_start, slow_start + 9) if d % 7 < 5)
            last = max(d for d in range(slow_start, slow_start + 9) if d % 7 < 5)
            self.truth.append({"family": "low_and_slow", "principal": {"admin_user_id": "1"},
                               "start": self.start + first * DAY + 9 * HOUR,
                               "end": self.start + last * DAY + 17 * HOUR,
                               "start_text": iso(self.start + first * DAY + 9 * HOUR)})

    def write(self, out):
        os.makedirs(out, exist_ok=True)
        self.sql.sort(key=lambda e: (e[0], e[1]))
        with open(os.path.join(out, "general.log"), "w") as f:
            f.write("/usr/sbin/mariadbd, Version: 10.11.6-MariaDB-log (Debian). started with:\n")
            f.write("Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\nTime\t\t    Id Command\tArgument\n")
            last = None
            for t, thread, statement, connect in self.sql:
                stamp = datetime.fromtimestamp(t, timezone.utc)
                text = stamp.strftime("%y%m%d ") + f"{stamp.hour:>2}:{stamp.minute:02}:{stamp.second:02}"
                prefix = f"{text}\t" if text != last else "\t\t"
                last = text
                if connect is not None:
                    f.write(f"{prefix}{thread:>6} Connect\t{connect}\n")
                else:
                    f.write(f"{prefix}{thread:>6} Query\t{statement}\n")
        self.admin.sort(key=lambda e: e[0])
        with open(os.path.join(out, "admin.log"), "w") as f:
            for _, event in self.admin:
                f.write(json.dumps(event) + "\n")
        self.shopify.sort(key=lambda e: e[0])
        with open(os.path.join(out, "shopify.jsonl"), "w") as f:
            for _, line in self.shopify:
                f.write(json.dumps(line) + "\n")
        with open(os.path.join(out, "truth.json"), "w") as f:
            json.dump({"days": self.days, "start": self.start, "attacks": self.truth}, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2026-09-07", help="first day (UTC), a Monday")
    args = parser.parse_args()
    start = int(datetime.strptime(args.start, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())
    shop = Shop(args.seed, max(args.days, 30), start)
    shop.generate()
    shop.write(args.out)


if __name__ == "__main__":
    main()
