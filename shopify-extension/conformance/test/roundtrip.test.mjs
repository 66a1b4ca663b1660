// Round trips through the conformance CLI: what it signs, the official library accepts; what an
// attacker changes, the library rejects. These are the behaviours the server must reproduce.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { SECRET, sign } from './helpers.mjs';

const SHOP = 'leak-test.myshopify.com';
/** @type {{webhooks: {api_version: string, subscriptions: Array<{topics?: string[], compliance_topics?: string[]}>}}} */
const appConfig = /** @type {any} */ (parse(
  readFileSync(new URL('../../shopify.app.toml', import.meta.url), 'utf8'),
));
const SUBSCRIBED_TOPICS = appConfig.webhooks.subscriptions.flatMap((subscription) => [
  ...(subscription.topics ?? []),
  ...(subscription.compliance_topics ?? []),
]);

function signed(overrides = {}) {
  return sign('webhook', {
    secret: SECRET,
    body: '{"id":820982911946154508,"email":"jon@example.com"}',
    topic: 'customers/update',
    shop: SHOP,
    webhook_id: '7b1e0c1a-0000-4000-8000-000000000001',
    api_version: appConfig.webhooks.api_version,
    ...overrides,
  });
}

for (const topic of SUBSCRIBED_TOPICS) {
  test(`a ${topic} delivery signed by the CLI is valid for the library`, () => {
    const out = signed({ topic });
    assert.equal(out.headers['X-Shopify-Topic'], topic);
    const verdict = sign('validate-webhook', { secret: SECRET, headers: out.headers, body: out.body });
    assert.equal(verdict.valid, true);
    assert.equal(verdict.topic, topic.toUpperCase().replace(/\//g, '_'));
    assert.equal(verdict.domain, SHOP);
    assert.equal(verdict.webhookId, '7b1e0c1a-0000-4000-8000-000000000001');
  });
}

test('a webhook carries every delivery header and the exact body', () => {
  const body = '{"note":"caf\u00e9 \\/ \\u0026 \u{1F600}","n":[1,2,3]}';
  const out = signed({ body, triggered_at: '2026-03-30T14:30:00.000000000Z', event_id: 'ev-1' });
  assert.equal(out.body, body);
  assert.deepEqual(Object.keys(out.headers).sort(), [
    'Content-Type',
    'X-Shopify-API-Version',
    'X-Shopify-Event-Id',
    'X-Shopify-Hmac-Sha256',
    'X-Shopify-Shop-Domain',
    'X-Shopify-Topic',
    'X-Shopify-Triggered-At',
    'X-Shopify-Webhook-Id',
  ]);
  assert.equal(out.headers['X-Shopify-Triggered-At'], '2026-03-30T14:30:00.000000000Z');
  assert.equal(out.headers['X-Shopify-API-Version'], appConfig.webhooks.api_version);
  assert.match(out.headers['X-Shopify-Hmac-Sha256'], /^[A-Za-z0-9+/]{43}=$/);
});

test('a large order body keeps its HMAC', () => {
  const lines = Array.from({ length: 2000 }, (_, i) => ({ id: i, sku: `SKU-${i}`, title: 'Teé' }));
  const body = JSON.stringify({ id: 1, line_items: lines });
  const out = signed({ body, topic: 'orders/create' });
  assert.equal(out.body, body);
  assert.equal(sign('validate-webhook', { secret: SECRET, headers: out.headers, body }).valid, true);
});

test('a webhook signed with another secret is invalid_hmac', () => {
  const out = signed({ secret: 'previous-secret' });
  assert.deepEqual(sign('validate-webhook', { secret: SECRET, headers: out.headers, body: out.body }), {
    valid: false,
    reason: 'invalid_hmac',
  });
});

test('re-serialised JSON no longer matches the HMAC', () => {
  const body = '{"url":"https:\\/\\/shop.example\\/a","q":"a\\u0026b"}';
  const out = signed({ body });
  const reserialised = JSON.stringify(JSON.parse(body));
  assert.notEqual(reserialised, body);
  assert.equal(
    sign('validate-webhook', { secret: SECRET, headers: out.headers, body: reserialised }).reason,
    'invalid_hmac',
  );
});

test('header names are matched case-insensitively', () => {
  const out = signed();
  const lower = Object.fromEntries(
    Object.entries(out.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  assert.equal(sign('validate-webhook', { secret: SECRET, headers: lower, body: out.body }).valid, true);
});

test('a delivery without a webhook id, topic, domain or API version is missing_headers', () => {
  for (const header of [
    'X-Shopify-Webhook-Id',
    'X-Shopify-Topic',
    'X-Shopify-Shop-Domain',
    'X-Shopify-API-Version',
  ]) {
    const out = signed();
    delete out.headers[header];
    const verdict = sign('validate-webhook', { secret: SECRET, headers: out.headers, body: out.body });
    assert.equal(verdict.valid, false);
    assert.equal(verdict.reason, 'missing_headers');
    assert.deepEqual(verdict.missingHeaders, [header]);
  }
});

test('a delivery without an HMAC is missing_hmac and an empty one is missing_body', () => {
  const out = signed();
  const { 'X-Shopify-Hmac-Sha256': _hmac, ...withoutHmac } = out.headers;
  assert.deepEqual(sign('validate-webhook', { secret: SECRET, headers: withoutHmac, body: out.body }), {
    valid: false,
    reason: 'missing_hmac',
  });
  assert.deepEqual(sign('validate-webhook', { secret: SECRET, headers: out.headers, body: '' }), {
    valid: false,
    reason: 'missing_body',
  });
});

test('the Events header family (lowercase shopify-*) is validated with the same HMAC', () => {
  const out = signed();
  const events = {
    'content-type': 'application/json',
    'shopify-hmac-sha256': out.headers['X-Shopify-Hmac-Sha256'],
    'shopify-topic': 'Customer',
    'shopify-shop-domain': SHOP,
    'shopify-api-version': 'unstable',
    'shopify-webhook-id': 'evt-delivery-1',
    'shopify-handle': 'customer-changes',
    'shopify-action': 'update',
  };
  const verdict = sign('validate-webhook', { secret: SECRET, headers: events, body: out.body });
  assert.equal(verdict.valid, true);
  assert.equal(verdict.webhookType, 'events');
  const forged = { ...events, 'shopify-hmac-sha256': signed({ secret: 'x' }).headers['X-Shopify-Hmac-Sha256'] };
  assert.equal(sign('validate-webhook', { secret: SECRET, headers: forged, body: out.body }).reason, 'invalid_hmac');
});

test('an OAuth query signed now is valid now, and one 100 s old is not', () => {
  const fresh = sign('oauth-query', { secret: SECRET, shop: SHOP, extra: { code: 'abc', state: 'nonce' } });
  assert.equal(fresh.valid_now, true);
  assert.deepEqual(sign('validate-query', { secret: SECRET, query: fresh.query }), { valid: true });

  const timestamp = Math.trunc(Date.now() / 1000) - 100;
  const old = sign('oauth-query', { secret: SECRET, shop: SHOP, timestamp });
  assert.equal(old.valid_now, false);
  assert.deepEqual(sign('validate-query', { secret: SECRET, query: old.query, now: timestamp }), { valid: true });
});

test('the signed query never carries a caller-supplied hmac or signature', () => {
  const out = sign('oauth-query', {
    secret: SECRET,
    shop: SHOP,
    timestamp: 1700000000,
    extra: { hmac: 'forged', signature: 'forged', embedded: '1' },
  });
  const params = new URLSearchParams(out.query);
  assert.deepEqual(params.getAll('hmac'), [out.hmac]);
  assert.equal(params.has('signature'), false);
  assert.equal(params.get('embedded'), '1');
});

test('repeated query parameters are joined with a comma by the library', () => {
  const out = sign('oauth-query', { secret: SECRET, shop: SHOP, timestamp: 1700000000, extra: { ids: '1,2' } });
  const repeated = out.query.replace('ids=1%2C2', 'ids=1&ids=2');
  assert.notEqual(repeated, out.query);
  assert.deepEqual(sign('validate-query', { secret: SECRET, query: repeated, now: 1700000000 }), { valid: true });
});

test('a session token signed now is valid now with App Bridge claims', () => {
  const out = sign('session-token', { api_key: 'leakguard-key', secret: SECRET, shop: 'leak-test', sub: '7' });
  assert.equal(out.valid_now, true);
  assert.equal(out.library_checked, true);
  const [header, payload] = out.token.split('.').slice(0, 2).map((part) =>
    JSON.parse(Buffer.from(part, 'base64url').toString('utf8')),
  );
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
  assert.equal(payload.iss, `https://${SHOP}/admin`);
  assert.equal(payload.dest, `https://${SHOP}`);
  assert.equal(payload.aud, 'leakguard-key');
  assert.equal(payload.sub, '7');
  assert.equal(payload.exp - payload.iat, 60);
  assert.equal(payload.nbf, payload.iat);
  assert.match(payload.jti, /^[0-9a-f-]{36}$/);
  assert.match(payload.sid, /^[0-9a-f]{32}$/);
});

test('a session token whose nbf is 5 s ahead passes, 30 s ahead fails, expired fails', () => {
  const base = { api_key: 'leakguard-key', secret: SECRET, shop: SHOP };
  assert.equal(sign('session-token', { ...base, nbf_offset: 5 }).valid_now, true);
  const ahead = sign('session-token', { ...base, nbf_offset: 30, exp_offset: 90 });
  assert.equal(ahead.valid_now, false);
  assert.equal(ahead.library_checked, true);
  const iat = Math.trunc(Date.now() / 1000) - 600;
  const expired = sign('session-token', { ...base, iat });
  assert.equal(expired.valid_now, false);
  assert.equal(expired.library_checked, true);
});

test('a token for another app is rejected by the library', () => {
  const out = sign('session-token', { api_key: 'other-app', secret: SECRET, shop: SHOP });
  const verdict = sign('validate-session-token', { api_key: 'leakguard-key', secret: SECRET, token: out.token });
  assert.equal(verdict.valid, false);
  assert.match(verdict.error, /invalid API key/);
});

test('an alg=none token is rejected by the library', () => {
  const out = sign('session-token', { api_key: 'leakguard-key', secret: SECRET, shop: SHOP });
  const [, payload] = out.token.split('.');
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
  const verdict = sign('validate-session-token', { api_key: 'leakguard-key', secret: SECRET, token: none });
  assert.equal(verdict.valid, false);
});

test('bad invocations print one JSON error and exit non-zero', () => {
  assert.match(sign('nope', {}, { expectStatus: 2 }).error, /^usage:/);
  assert.match(sign('webhook', 'not json', { expectStatus: 2 }).error, /not valid JSON/);
  assert.match(sign('webhook', '[1]', { expectStatus: 2 }).error, /JSON object/);
  assert.match(sign('webhook', { body: '{}', topic: 't', shop: SHOP }, { expectStatus: 1 }).error, /secret/);
  assert.match(
    sign('webhook', { secret: SECRET, body: '', topic: 't', shop: SHOP }, { expectStatus: 1 }).error,
    /must not be empty/,
  );
  assert.match(
    sign('oauth-query', { secret: SECRET, shop: SHOP, timestamp: 'soon' }, { expectStatus: 1 }).error,
    /timestamp/,
  );
});

test('a batch runs many commands in one process, each with its own result', () => {
  const out = sign('batch', {
    requests: [
      { command: 'webhook', args: { secret: SECRET, body: '{"id":1}', topic: 'orders/create', shop: SHOP } },
      { command: 'oauth-query', args: { secret: SECRET, shop: SHOP, timestamp: 1700000000 } },
      { command: 'webhook', args: { secret: SECRET, body: '', topic: 'orders/create', shop: SHOP } },
      { command: 'nope', args: {} },
      'not an object',
    ],
  });
  assert.equal(out.results.length, 5);
  assert.equal(out.results[0].library.valid, true);
  assert.equal(out.results[0].body, '{"id":1}');
  assert.match(out.results[1].query, /^shop=leak-test\.myshopify\.com&timestamp=1700000000&hmac=[0-9a-f]{64}$/);
  assert.match(out.results[2].error, /must not be empty/);
  assert.match(out.results[3].error, /unknown command/);
  assert.match(out.results[4].error, /must be \{"command", "args"\}/);
  assert.match(sign('batch', { requests: 'x' }, { expectStatus: 2 }).error, /batch needs/);
});

test('without its npm dependencies the CLI says so and exits 3', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leakguard-sign-'));
  try {
    for (const file of ['sign.mjs', 'oracle.mjs']) {
      copyFileSync(new URL(`../${file}`, import.meta.url), join(dir, file));
    }
    const run = spawnSync(process.execPath, [join(dir, 'sign.mjs'), 'webhook', '{}'], { encoding: 'utf8' });
    assert.equal(run.status, 3);
    assert.match(JSON.parse(run.stdout).error, /npm ci/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
