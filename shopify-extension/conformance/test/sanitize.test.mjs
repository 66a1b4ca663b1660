// The library's shop and host sanitising (platform spec, shop-domain validation). LeakGuard's
// server accepts only the anchored `{name}.myshopify.com` form; these pin what the library does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from './helpers.mjs';

test('the library rewrites the admin.shopify.com/store form to the myshopify domain', () => {
  assert.deepEqual(sign('sanitize', { shop: 'admin.shopify.com/store/some-shop' }), {
    shop: 'some-shop.myshopify.com',
  });
  assert.deepEqual(sign('sanitize', { shop: 'some-shop.myshopify.com' }), { shop: 'some-shop.myshopify.com' });
});

test('unanchored look-alike shops are rejected by the library', () => {
  for (const shop of [
    'evil.com/x.myshopify.com',
    'shop.myshopify.com.evil.test',
    'https://some-shop.myshopify.com',
    '-shop.myshopify.com',
    'some shop.myshopify.com',
    '',
  ]) {
    assert.deepEqual(sign('sanitize', { shop }), { shop: null }, shop);
  }
});

test('the library is more permissive than LeakGuard: underscores, case and trailing slashes pass', () => {
  assert.deepEqual(sign('sanitize', { shop: 'Shop_1.myshopify.com/' }), { shop: 'Shop_1.myshopify.com/' });
  assert.deepEqual(sign('sanitize', { shop: 'some-shop.shopify.com' }), { shop: 'some-shop.shopify.com' });
});

test('host must be base64 of a Shopify admin hostname', () => {
  const good = Buffer.from('admin.shopify.com/store/some-shop').toString('base64');
  assert.deepEqual(sign('sanitize', { host: good }), { host: good });
  const evil = Buffer.from('evil.example/store/some-shop').toString('base64');
  assert.deepEqual(sign('sanitize', { host: evil }), { host: null });
  assert.deepEqual(sign('sanitize', { host: 'not base64!' }), { host: null });
});

test('sanitize needs a shop or a host', () => {
  assert.match(sign('sanitize', {}, { expectStatus: 1 }).error, /shop and\/or host/);
});
