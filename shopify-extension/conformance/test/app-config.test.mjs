// The app and extension configuration follow the platform rules LeakGuard depends on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ApiVersion } from '@shopify/shopify-api';
import { parse } from 'smol-toml';

const root = new URL('../../', import.meta.url);
const appToml = readFileSync(new URL('shopify.app.toml', root), 'utf8');
/** @type {any} */
const app = parse(appToml);
const extensionDir = new URL('extensions/leakguard-customer-findings/', root);
/** @type {any} */
const extension = parse(readFileSync(new URL('shopify.extension.toml', extensionDir), 'utf8'));

/** Scope each subscribed topic needs (platform spec, webhook topics table); null = none. */
const TOPIC_SCOPE = {
  'app/uninstalled': null,
  'app/scopes_update': null,
  'bulk_operations/finish': null,
  'customers/create': 'read_customers',
  'customers/update': 'read_customers',
  'customers/delete': 'read_customers',
  'orders/create': 'read_orders',
  'orders/updated': 'read_orders',
};

const appUrl = new URL(app.application_url);
const scopes = app.access_scopes.scopes.split(',').map((/** @type {string} */ s) => s.trim());
/** @type {Array<{topics?: string[], compliance_topics?: string[], uri: string}>} */
const subscriptions = app.webhooks.subscriptions;

test('the app is embedded, has its required keys and App Home at /app', () => {
  for (const key of ['name', 'client_id', 'application_url', 'embedded']) {
    assert.ok(key in app, `missing ${key}`);
  }
  assert.equal(app.embedded, true);
  assert.equal(appUrl.protocol, 'https:');
  assert.equal(appUrl.pathname, '/app');
});

test('the OAuth callback is the server route on the app host', () => {
  assert.deepEqual(app.auth.redirect_urls, [`${appUrl.origin}/shopify/callback`]);
});

test('the webhook API version is one the official library knows', () => {
  assert.ok(Object.values(ApiVersion).includes(app.webhooks.api_version), app.webhooks.api_version);
  assert.match(app.webhooks.api_version, /^\d{4}-(01|04|07|10)$/, 'a stable version, not unstable');
});

test('every webhook goes to the server route over https', () => {
  for (const subscription of subscriptions) {
    assert.equal(subscription.uri, `${appUrl.origin}/shopify/webhooks`);
  }
});

test('the three mandatory compliance topics are subscribed through compliance_topics', () => {
  const compliance = subscriptions.flatMap((s) => s.compliance_topics ?? []);
  assert.deepEqual(compliance.sort(), ['customers/data_request', 'customers/redact', 'shop/redact']);
  const regular = subscriptions.flatMap((s) => s.topics ?? []);
  for (const topic of compliance) {
    assert.ok(!regular.includes(topic), `${topic} must not be a regular topic`);
  }
});

test('exactly the signal and lifecycle topics are subscribed, each once', () => {
  const regular = subscriptions.flatMap((s) => s.topics ?? []);
  assert.deepEqual([...regular].sort(), Object.keys(TOPIC_SCOPE).sort());
  assert.equal(new Set(regular).size, regular.length);
});

test('scopes are least privilege: read only, and each one is used by a subscribed topic', () => {
  assert.deepEqual([...scopes].sort(), ['read_customers', 'read_orders']);
  assert.ok(scopes.every((/** @type {string} */ s) => s.startsWith('read_')));
  const needed = new Set(Object.values(TOPIC_SCOPE).filter((s) => s !== null));
  assert.deepEqual([...needed].sort(), [...scopes].sort());
});

test('read_apps is not requested but documented for custom distribution', () => {
  assert.ok(!scopes.includes('read_apps'));
  assert.equal(app.access_scopes.optional_scopes, undefined);
  assert.match(appToml, /^#.*read_apps/m);
  assert.match(appToml, /custom apps/);
});

test('the extension targets the customer details block with an existing module', () => {
  assert.equal(extension.api_version, app.webhooks.api_version);
  assert.equal(extension.extensions.length, 1);
  const [ext] = extension.extensions;
  assert.equal(ext.type, 'ui_extension');
  assert.equal(ext.handle, 'leakguard-customer-findings');
  assert.equal(ext.targeting.length, 1);
  assert.equal(ext.targeting[0].target, 'admin.customer-details.block.render');
  assert.ok(existsSync(new URL(ext.targeting[0].module, extensionDir)), ext.targeting[0].module);
});

test('the extension target exists in the installed ui-extensions package', () => {
  const require = createRequire(new URL('package.json', extensionDir));
  const typesDir = dirname(require.resolve('@shopify/ui-extensions'));
  const target = extension.extensions[0].targeting[0].target;
  assert.ok(
    existsSync(join(typesDir, 'build', 'ts', 'surfaces', 'admin', 'targets', `${target}.d.ts`)),
    target,
  );
});
