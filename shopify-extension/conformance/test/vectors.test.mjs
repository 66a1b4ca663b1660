// Every test vector of the Shopify platform spec, reproduced through the conformance CLI and
// checked by the official library.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SECRET, sign } from './helpers.mjs';

const CODE = '0907a61c0c8d55e99db179b68161bc00';
const SHOP = 'some-shop.myshopify.com';

const QUERY_VECTORS = [
  {
    name: 'an OAuth callback query',
    timestamp: 1337178173,
    extra: { code: CODE },
    message: `code=${CODE}&shop=${SHOP}&timestamp=1337178173`,
    hmac: '4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20',
  },
  {
    name: 'the Shopify docs example with state',
    timestamp: 1337178173,
    extra: { code: CODE, state: '0.6784241404160823' },
    message: `code=${CODE}&shop=${SHOP}&state=0.6784241404160823&timestamp=1337178173`,
    hmac: '700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf',
  },
  {
    name: 'an App URL load with host',
    timestamp: 1700000000,
    extra: { host: 'YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w' },
    message: `host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w&shop=${SHOP}&timestamp=1700000000`,
    hmac: '8f7ad4abe8fef0336d438d88898cefcf4184519a9a5de83bb15fe7fd165548ca',
  },
  {
    name: 'a value with a space, an ampersand and an equals sign (%20 form)',
    timestamp: 1700000000,
    extra: { note: 'a b&c=d' },
    message: `note=a%20b%26c%3Dd&shop=${SHOP}&timestamp=1700000000`,
    hmac: '706d8926764bde7dd5e1ab617c03a981f20877e6bb103949b41a89b25f5840ae',
  },
];

for (const vector of QUERY_VECTORS) {
  test(`the query HMAC of ${vector.name} matches the spec vector`, () => {
    const out = sign('oauth-query', {
      secret: SECRET,
      shop: 'some-shop',
      timestamp: vector.timestamp,
      extra: vector.extra,
    });
    assert.equal(out.hmac, vector.hmac);
    const params = new URLSearchParams(out.query);
    assert.equal(params.get('hmac'), vector.hmac);
    for (const [key, value] of Object.entries(vector.extra)) {
      assert.equal(params.get(key), value);
    }
    // The spec's message is what the HMAC covers.
    assert.equal(createHmac('sha256', SECRET).update(vector.message).digest('hex'), vector.hmac);
  });

  test(`the library accepts ${vector.name} at its timestamp and rejects it 91 s later`, () => {
    const query = `${vector.message}&hmac=${vector.hmac}`;
    assert.deepEqual(sign('validate-query', { secret: SECRET, query, now: vector.timestamp }), {
      valid: true,
    });
    assert.deepEqual(sign('validate-query', { secret: SECRET, query, now: vector.timestamp + 90 }), {
      valid: true,
    });
    const stale = sign('validate-query', { secret: SECRET, query, now: vector.timestamp + 91 });
    assert.equal(stale.valid, false);
    assert.match(stale.error, /outside of the tolerance range/);
  });
}

test('the plus-for-space query form (older libraries, Ruby) is the spec vector but the library rejects it', () => {
  const message = `note=a+b%26c%3Dd&shop=${SHOP}&timestamp=1700000000`;
  const plusHmac = '4fc7b088fdb780ec18a29422127ad8c5bbaeb21883176689e382e6b1629d554e';
  assert.equal(createHmac('sha256', SECRET).update(message).digest('hex'), plusHmac);
  const verdict = sign('validate-query', {
    secret: SECRET,
    query: `${message}&hmac=${plusHmac}`,
    now: 1700000000,
  });
  assert.deepEqual(verdict, { valid: false });
});

test('a query with a wrong secret or a changed parameter is rejected', () => {
  const vector = QUERY_VECTORS[0];
  const query = `${vector.message}&hmac=${vector.hmac}`;
  assert.deepEqual(sign('validate-query', { secret: 'other', query, now: vector.timestamp }), {
    valid: false,
  });
  const changed = query.replace('some-shop', 'evil-shop');
  assert.deepEqual(sign('validate-query', { secret: SECRET, query: changed, now: vector.timestamp }), {
    valid: false,
  });
});

test('a query without hmac is an error in the library', () => {
  const out = sign('validate-query', {
    secret: SECRET,
    query: `shop=${SHOP}&timestamp=1700000000`,
    now: 1700000000,
  });
  assert.equal(out.valid, false);
  assert.match(out.error, /does not contain an HMAC/);
});

const SESSION_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJjbGllbnQtaWQtMTIzIiwiaXNzIjoiaHR0cHM6Ly9zb21lLXNob3AubXlzaG9waWZ5LmNvbS9hZG1pbiIsImRlc3QiOiJodHRwczovL3NvbWUtc2hvcC5teXNob3BpZnkuY29tIiwic3ViIjoiNDIiLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMDYwLCJqdGkiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCJzaWQiOiJvcmFjbGUtc2Vzc2lvbi1pZCJ9.7Bdg50W_J9uS-ZfnqV2go4ZJxQKJaeS2VR_1pN54BVQ';

test('the session token is byte-identical to the spec vector', () => {
  const out = sign('session-token', {
    api_key: 'client-id-123',
    secret: SECRET,
    shop: 'some-shop',
    sub: '42',
    iat: 1700000000,
    exp_offset: 60,
    nbf_offset: 0,
    jti: '00000000-0000-4000-8000-000000000000',
    sid: 'oracle-session-id',
  });
  assert.equal(out.token, SESSION_TOKEN);
  assert.equal(out.library_checked, true);
  assert.deepEqual(Object.keys(out.payload), [
    'aud', 'iss', 'dest', 'sub', 'iat', 'nbf', 'exp', 'jti', 'sid',
  ]);
});

// jose's boundaries: rejected once exp <= now - 10, and while nbf > now + 10.
test('the library accepts the spec session token from nbf - 10 s until before exp + 10 s', () => {
  for (const now of [1700000000, 1700000060, 1700000069, 1699999990]) {
    const out = sign('validate-session-token', {
      api_key: 'client-id-123',
      secret: SECRET,
      token: SESSION_TOKEN,
      now,
    });
    assert.equal(out.valid, true, `rejected at ${now}: ${out.error}`);
    assert.equal(out.payload.dest, `https://${SHOP}`);
    assert.equal(out.payload.iss, `https://${SHOP}/admin`);
  }
});

test('the library rejects the spec session token at exp + 10 s, at t+71 s and before nbf - 10 s', () => {
  for (const now of [1700000070, 1700000071]) {
    const late = sign('validate-session-token', {
      api_key: 'client-id-123',
      secret: SECRET,
      token: SESSION_TOKEN,
      now,
    });
    assert.equal(late.valid, false, `accepted at ${now}`);
    assert.match(late.error, /"exp" claim timestamp check failed/);
  }
  const early = sign('validate-session-token', {
    api_key: 'client-id-123',
    secret: SECRET,
    token: SESSION_TOKEN,
    now: 1699999989,
  });
  assert.equal(early.valid, false);
  assert.match(early.error, /"nbf" claim timestamp check failed/);
});

test('the library rejects the spec session token for another API key or secret', () => {
  const otherKey = sign('validate-session-token', {
    api_key: 'other-key',
    secret: SECRET,
    token: SESSION_TOKEN,
    now: 1700000000,
  });
  assert.equal(otherKey.valid, false);
  assert.match(otherKey.error, /Session token had invalid API key/);
  const otherSecret = sign('validate-session-token', {
    api_key: 'client-id-123',
    secret: 'not-hush',
    token: SESSION_TOKEN,
    now: 1700000000,
  });
  assert.equal(otherSecret.valid, false);
  assert.match(otherSecret.error, /signature verification failed/);
});

const COMPLIANCE_BODY = '{"shop_id":954889,"shop_domain":"some-shop.myshopify.com"}';

test('the webhook HMAC matches the spec vector and the library accepts the delivery', () => {
  const out = sign('webhook', {
    secret: SECRET,
    body: COMPLIANCE_BODY,
    topic: 'shop/redact',
    shop: SHOP,
    webhook_id: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    api_version: '2026-07',
  });
  assert.equal(out.headers['X-Shopify-Hmac-Sha256'], 'Tr2c7Me17fTQwz4kN7AGPjEn0lRCShuYgLnmDSgxA4k=');
  assert.equal(out.body, COMPLIANCE_BODY);
  assert.equal(out.library.topic, 'SHOP_REDACT');
  const verdict = sign('validate-webhook', { secret: SECRET, headers: out.headers, body: out.body });
  assert.equal(verdict.valid, true);
});

test('changing one digit of the spec webhook body gives invalid_hmac', () => {
  const out = sign('webhook', {
    secret: SECRET,
    body: COMPLIANCE_BODY,
    topic: 'shop/redact',
    shop: SHOP,
    webhook_id: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    api_version: '2026-07',
  });
  const tampered = COMPLIANCE_BODY.replace('954889', '954880');
  assert.deepEqual(sign('validate-webhook', { secret: SECRET, headers: out.headers, body: tampered }), {
    valid: false,
    reason: 'invalid_hmac',
  });
});
