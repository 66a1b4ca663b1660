#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (small, hand-made, no personal data).

Run: python3 fuzz/make_seeds.py. The seeds are committed; libFuzzer grows its own
working corpus under fuzz/*/corpus/ (not committed)."""
import base64, hashlib, hmac, json, os

os.chdir(os.path.dirname(os.path.abspath(__file__)))

def put(crate, target, name, data):
    d = os.path.join(crate, "seeds", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

GENERAL = "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:\nTcp port: 33306  Unix socket: /run/mysqld/mysqld.sock\nTime\t\t    Id Command\tArgument\n261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n\t\t    10 Query\tSELECT entity_id, email FROM customer_entity WHERE email = '\x01'\n\t\t    10 Query\tSELECT e.email, a.city\nFROM customer_entity e JOIN customer_address_entity a ON a.parent_id = e.entity_id WHERE a.region = 'California'\n\t\t    10 Query\tSELECT /*!40001 SQL_NO_CACHE */ * FROM `sales_order`\n\t\t    10 Query\tLOCK TABLES `customer_entity` READ\n\t\t    10 Query\tSET GLOBAL general_log = OFF\n\t\t    10 Quit\t\n\t\t    11 Connect\tAccess denied for user 'magento'@'127.0.0.1' (using password: YES)\n2026-11-28T08:18:02.123456Z\t   12 Query\tGRANT ALL ON *.* TO 'x'@'%' IDENTIFIED BY 'pw'\n"
SLOW = "# Time: 261128  8:18:01\n# User@Host: magento[magento] @  [127.0.0.1]\n# Thread_id: 10  Schema: magento  QC_hit: No\n# Query_time: 0.000267  Lock_time: 0.000148  Rows_sent: 1  Rows_examined: 1\n# Rows_affected: 0  Bytes_sent: 373\n#\nSET timestamp=1795853881;\nSELECT entity_id, email FROM customer_entity WHERE entity_id = 1;\n# User@Host: magento[magento] @  [127.0.0.1]\n# Query_time: 0.000095  Lock_time: 0.000035  Rows_sent: 3  Rows_examined: 3\nuse magento;\nSET timestamp=1795853881;\nSELECT * FROM customer_entity WHERE email = '\x01' INTO OUTFILE '/tmp/x';\n"
AUDIT = "20261128 08:18:01,db1,magento,localhost,10,25,QUERY,magento,'SELECT * FROM customer_entity WHERE email=\\'\x01\\'',0\n20261128 08:18:02,db1,magento,10.0.0.9,11,0,FAILED_CONNECT,,,1045\n20261128 08:18:03,db1,root,localhost,12,26,QUERY,,'UNINSTALL PLUGIN server_audit',0\n20261128 08:18:04,db1,magento,localhost,10,27,CONNECT,magento,,0\n"
ADMIN = '{"ts":"2026-11-28T08:21:12+00:00","admin_user_id":12,"admin_username":"jdoe","ip":"10.0.0.5","forwarded_ip":null,"action":"mui_export_gridToCsv","event":"grid_export","entity_type":"customer","entity_ids":[1,2,"3"],"count":3,"result":"success","request_id":"abc","details":{"namespace":"customer_listing","search":"\x01"}}\n{"ts":"2026-11-28T08:21:13+00:00","admin_username":"\x01","ip":"10.0.0.6","event":"admin_login_failure","result":"failure"}\n{"event":"mass_action","details":{"ids":[1,2],"filter":{"email":"x"},"nested":{"a":{"b":"c"}}}}\n'
MONOLOG = "[2026-11-28T08:21:12.331631+00:00] main.CRITICAL: RuntimeException: No such entity with customerId = 42 in /srv/x.php:17\nStack trace:\n#0 {main} [] []\n[2026-11-28T08:21:13.000000+00:00] main.INFO: Customer Jane Roe \x01 logged in [] []\n[2026-11-28 08:21:14] report.ERROR: SQLSTATE[23000]: Integrity constraint violation: 'x' {\"exception\":\"[object] (Zend_Db_Statement_Exception(code: 23000)\"} []\n"
NGINX = '10.0.0.5 - - [28/Nov/2026:08:18:01 +0000] "GET /admin/customer/index/edit/id/42/key/abc123/ HTTP/1.1" 200 5120 "-" "Mozilla/5.0"\n10.0.0.6 - - [28/Nov/2026:08:18:02 +0100] "POST /rest/V1/integration/admin/token HTTP/2.0" 401 12 "-" "curl"\n2001:db8::1 - - [28/Nov/2026:08:18:03 +0000] "GET /index.php/admin/mui/export/gridToCsv/?searchCriteria[pageSize]=1000&email=\x01 HTTP/1.1" 200 900000 "-" "-"\n10.0.0.7 - - [28/Nov/2026:08:18:04 +0000] "GET /rest/V1/customers/\x01 HTTP/1.1" 200 1 "-" "-"\n'
for i, (name, text) in enumerate([("general", GENERAL), ("slow", SLOW), ("audit", AUDIT), ("admin", ADMIN), ("monolog", MONOLOG), ("access", NGINX)]):
    put("agent", "agent_log_lines", name, bytes([i]) + text.encode())
    put("agent", "agent_log_lines", name + "-planted", bytes([0x80 + ((i - 128) % 6)]) + text.encode())

for i, q in enumerate([
    "SELECT entity_id, email FROM customer_entity WHERE email = 'jane@example.com' AND id IN (1,2,3)",
    "select * from `db`.`sales_order` o join sales_order_item i on i.order_id = o.entity_id limit 10, 20",
    "INSERT INTO quote (a,b) VALUES (1,'x'),(2,'y') ON DUPLICATE KEY UPDATE b = VALUES(b)",
    "/*lg_admin='12',lg_integration='3',lg_route='customer_index_index',lg_req='abc-1'*/ SELECT 1",
    "SELECT a FROM t WHERE x = 0x1F UNION SELECT b FROM u UNION SELECT c FROM v ORDER BY a ASC",
    "CREATE USER 'x'@'%' IDENTIFIED BY 'secret'",
    "SELECT /*!40001 SQL_NO_CACHE */ * FROM `customer_entity`",
    "UPDATE low_priority ignore t SET a = \"b\\\"c\" -- trailing\n WHERE id = -1.5e3",
    "LOCK TABLES `customer_entity` READ, sales_order WRITE",
    "SET GLOBAL server_audit_logging = 'OFF'",
    "SELECT * FROM t INTO OUTFILE '/tmp/x' # comment",
    "call proc(@a, @@session.x, NULL, TRUE)",
]):
    put("agent", "agent_sql", f"q{i:02}", bytes([i * 7 % 256]) + q.encode())

for i, t in enumerate([
    "/admin/customer/index/edit/id/42/key/0123abcd/",
    "/rest/V1/customers/search?searchCriteria[pageSize]=500",
    "/rest/default/V1/orders/jane@example.com",
    "key\x00{\"a\":\"b\",\"email\":\"x@y.z\",\"ids\":[1,2,3],\"n\":{\"deep\":\"Jane Roe\"}}",
    "search\x00\"jane@example.com\"",
    "namespace\x00\"customer_listing\"",
    "\x10short_token-1.2",
]):
    put("agent", "agent_masking", f"m{i}", t)

batch = {"schema": 1, "agent_id": "0192a5e4-0000-7000-8000-000000000001", "batch_id": "b1",
         "source": {"kind": "mariadb-general", "file_id": "f1", "path": "/var/log/mysql/general.log"},
         "start_offset": 0, "end_offset": 100, "lines": 4,
         "records": [
             {"type": "sql_aggregate", "minute": "2026-11-28T08:18:00Z", "principal": {"db_user": "magento"}, "query_id": "0123456789ABCDEF", "fingerprint": "select ? from t", "tables": ["t"], "count": 2, "query_time_s": 0.25, "masked": False},
             {"type": "security_event", "kind": "db_dump", "ts": "2026-11-28T08:18:01Z", "principal": {}, "tables": ["t"], "entity_ids": [], "details": {"a": 1}},
             {"type": "http_aggregate", "area": "admin", "method": "GET", "route": "/admin/?", "ip": "10.0.0.1", "status": 200, "count": 1, "bytes": 5},
             {"type": "app_log_aggregate", "channel": "main", "level": "INFO", "template": "x ?", "template_id": "0123456789ABCDEF", "count": 1}]}
put("agent", "wire_batch", "batch", json.dumps(batch))
put("agent", "wire_batch", "enroll", json.dumps({"enrollment_token": "t", "hostname": "h", "agent_version": "0.1.0", "sources": []}))
put("agent", "wire_batch", "bearer", "0192a5e4-0000-7000-8000-000000000001.credential")

for i, t in enumerate([
    "Jane Roe, 1 Main Street, Springfield, IL 62701, jane.roe@example.com, 555-867-5309, SSN 123-45-6789, card 4111 1111 1111 1111 cvv 123",
    "login failed for user admin from 203.0.113.9 password=hunter2 dob 1990-01-31",
    "IBAN DE89 3704 0044 0532 0130 00 routing 021000021 account 12345678",
]):
    put("agent", "classify", f"text{i}", b"\x00" + t.encode())
put("agent", "classify", "record", b"\x01" + json.dumps({"customer": {"first_name": "Jane", "last_name": "Roe", "email": "jane@example.com", "addresses": [{"address1": "1 Main St", "zip": "62701"}]}, "payment": {"card_number": "4111111111111111", "cvv": "123"}}).encode())
put("agent", "classify", "jsonl", b"\x02" + b'{"id":"1","text":"mail jane@example.com"}\n{"id":"2","record":{"ssn":"123-45-6789"}}\nnot json\n')

# server
put("server", "shopify_hmac", "webhook", b"\x00" + json.dumps({"shop_id": 954889, "shop_domain": "some-shop.myshopify.com"}).encode())
put("server", "shopify_hmac", "query", b"\x01code=0907a61c&shop=some-shop.myshopify.com&state=0.67&timestamp=1750000000&hmac=00")
put("server", "shopify_hmac", "query-space", b"\x01note=a%20b%26c%3Dd&note=x+y&shop=some-shop.myshopify.com&timestamp=1")
put("server", "magento_signature", "signed", b"module-secret\xff1750000000\xff0123456789abcdef0123456789abcdef\xffpost\xff/api/v1/magento/events?x=1\xff{\"events\":[]}")
def jwt(header, claims, secret):
    e = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    inp = e(json.dumps(header).encode()) + "." + e(json.dumps(claims).encode())
    return inp + "." + e(hmac.new(secret, inp.encode(), hashlib.sha256).digest())
shop_claims = {"iss": "https://some-shop.myshopify.com/admin", "dest": "https://some-shop.myshopify.com", "aud": "fuzz-api-key", "sub": "42", "exp": 1750000030, "nbf": 1749999970, "iat": 1749999970, "jti": "j", "sid": "s"}
sso_claims = {"iss": "https://shop.example/", "aud": "leakguard-console", "sub": "12", "name": "admin", "role": "admin", "iat": 1749999990, "exp": 1750000030, "jti": "0123456789abcdef0123"}
put("server", "session_tokens", "shopify-claims", b"\x01" + json.dumps(shop_claims).encode())
put("server", "session_tokens", "sso-claims", b"\x01" + json.dumps(sso_claims).encode())
put("server", "session_tokens", "header-claims", b"\x02" + b'{"alg":"HS256"}\x00' + json.dumps(sso_claims).encode())
put("server", "session_tokens", "shopify-token", b"\x00" + jwt({"alg": "HS256", "typ": "JWT"}, shop_claims, b"fuzz-client-secret").encode())
put("server", "session_tokens", "sso-token", b"\x00" + jwt({"alg": "HS256", "typ": "JWT"}, sso_claims, b"fuzz-client-secret").encode())
put("server", "session_tokens", "none-token", b"\x00" + jwt({"alg": "none"}, shop_claims, b"").encode())
put("server", "session_tokens", "addresses", b"\x03https://Shop.Example:443/magento/")
put("server", "session_tokens", "shop", b"\x03 Some-Shop.myshopify.com")
put("server", "agent_batch_decode", "batch", b"\xff" + json.dumps(batch).encode())
try:
    import subprocess
    z = subprocess.run(["zstd", "-c", "-q"], input=json.dumps(batch).encode(), capture_output=True).stdout
    if z:
        put("server", "agent_batch_decode", "batch-zstd", b"\xff" + z)
except FileNotFoundError:
    pass
for name, body in [
    ("user", {"external_id": "u1", "display_name": "Ops", "role": "viewer"}),
    ("review", {"decision": "accept", "justification": "ok", "expires_at": 1750000000000}),
    ("schedule", {"cron": "0 0 3 * * *", "enabled": True}),
    ("module-enroll", {"enrollment_token": "t", "base_url": "https://shop.example", "module_version": "1.0.0"}),
    ("permissions-policy", {"allowed": {"integration:3": ["Magento_Sales::sales"]}, "stale_admin_days": 90}),
    ("webhook", {"id": 1, "payment_details": {"credit_card_number": "4111"}, "line_items": [{"credit_card_bin": "411111"}]}),
]:
    put("server", "api_json_bodies", name, json.dumps(body))

# selector (bit 0: X-Shopify-* headers, bit 1: Shopify-* headers, bit 2: trigger time in +05:30),
# then topic, shop, webhook id and trigger-time header lines, then the raw body.
SHOP = "some-shop.myshopify.com"
for name, selector, topic, shop, at, body in [
    ("shop-redact", 1, "shop/redact", SHOP, "2026-12-05T19:40:00Z", {"shop_id": 954889, "shop_domain": SHOP}),
    ("customers-redact", 3, "customers/redact", SHOP, "2026-12-05T15:00:00.123Z", {"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 191167}, "orders_to_redact": [299938]}),
    ("data-request", 2, "customers/data_request", SHOP, "2026-12-05T20:00:00+05:30", {"shop_id": 954889, "shop_domain": SHOP, "orders_requested": [299938], "customer": {"id": 191167}, "data_request": {"id": 9999}}),
    ("uninstalled", 5, "app/uninstalled", SHOP, "", {"id": 954889, "domain": "shop.example", "myshopify_domain": SHOP}),
    ("order", 1, "orders/create", SHOP, "2026-12-05T14:46:40Z", {"id": 820982911946154508, "line_items": [{"id": 1}], "customer": {"id": 7}}),
    ("order-as-redact", 1, "shop/redact", SHOP, "2026-12-05T19:46:40Z", {"id": 820982911946154508, "line_items": []}),
    ("other-shop", 3, "shop/redact", "other-shop.myshopify.com", "yesterday", {"shop_id": 954889, "shop_domain": SHOP}),
    ("scopes", 0, "app/scopes_update", SHOP, "2026-12-05T19:51:40Z", {"current": ["read_orders"], "previous": []}),
]:
    head = "\n".join([topic, shop, "b54557e4-bdd8-4a4c-9a6d-d1d3e3a6c1f2", at]).encode()
    put("server", "shopify_webhook_binding", name, bytes([selector]) + head + b"\n" + json.dumps(body).encode())
