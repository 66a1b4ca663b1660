#!/usr/bin/env node
// Throughput and latency of webhook validation in the official `@shopify/shopify-api` library,
// without HTTP: the baseline the LeakGuard server's webhook verification is compared with.
//
//   node shopify-extension/conformance/bench-validate.mjs [N] [body_bytes] [concurrency]
//
// Signs N distinct deliveries (default 20,000, bodies of about 1 KiB) up front, then validates
// them with `shopify.webhooks.validate`, timing each call, with `concurrency` validations in
// flight (default 1: one after another). Every validation must succeed, or the run fails.
// Prints one JSON object: validations per second and latency percentiles in microseconds.

import { performance } from 'node:perf_hooks';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import { createShopify, DEFAULT_API_VERSION, messageOf } from './oracle.mjs';

const DEFAULT_N = 20_000;
const DEFAULT_BODY_BYTES = 1024;
const WARMUP = 1_000;
const SECRET = 'bench-secret-0123456789abcdef';

function parsePositive(value, fallback, name) {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) {
    throw new Error(`${name} must be a positive integer`);
  }
  return parsed;
}

/** A customers/update-like body of about `bodyBytes` bytes, distinct per index. */
function bodyFor(index, bodyBytes) {
  const base = {
    id: 706405506930370000 + index,
    email: `customer${index}@example.com`,
    updated_at: '2026-11-28T10:00:00-05:00',
    state: 'enabled',
    tags: 'vip',
    note: '',
  };
  const skeleton = JSON.stringify(base);
  base.note = 'x'.repeat(Math.max(0, bodyBytes - skeleton.length));
  return JSON.stringify(base);
}

function delivery(index, bodyBytes) {
  const body = bodyFor(index, bodyBytes);
  const rawRequest = new Request('https://leakguard.example.com/shopify/webhooks', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Shopify-Topic': 'customers/update',
      'X-Shopify-Hmac-Sha256': getHmac(body, SECRET),
      'X-Shopify-Shop-Domain': 'bench-shop.myshopify.com',
      'X-Shopify-API-Version': DEFAULT_API_VERSION,
      'X-Shopify-Webhook-Id': `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      'X-Shopify-Triggered-At': '2026-11-28T15:00:00.000000000Z',
      'X-Shopify-Event-Id': `event-${index}`,
    },
    body,
  });
  return { rawBody: body, rawRequest };
}

function percentile(sorted, p) {
  const rank = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, rank)];
}

async function main() {
  const n = parsePositive(process.argv[2], DEFAULT_N, 'N');
  const bodyBytes = parsePositive(process.argv[3], DEFAULT_BODY_BYTES, 'body_bytes');
  const concurrency = parsePositive(process.argv[4], 1, 'concurrency');
  const shopify = createShopify({ secret: SECRET });

  const warmup = Array.from({ length: Math.min(WARMUP, n) }, (_, i) => delivery(n + i, bodyBytes));
  for (const args of warmup) {
    const verdict = await shopify.webhooks.validate(args);
    if (!verdict.valid) throw new Error(`warm-up validation failed: ${verdict.reason}`);
  }

  const deliveries = Array.from({ length: n }, (_, i) => delivery(i, bodyBytes));
  const latenciesUs = new Float64Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next;
      next += 1;
      const t0 = performance.now();
      const verdict = await shopify.webhooks.validate(deliveries[i]);
      latenciesUs[i] = (performance.now() - t0) * 1000;
      if (!verdict.valid) throw new Error(`validation ${i} failed: ${verdict.reason}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  const sorted = Array.from(latenciesUs).sort((a, b) => a - b);
  const round = (value) => Math.round(value * 10) / 10;

  process.stdout.write(
    `${JSON.stringify({
      library: '@shopify/shopify-api@15.0.0 webhooks.validate (web-api adapter)',
      node: process.version,
      validations: n,
      body_bytes: Buffer.byteLength(deliveries[0].rawBody),
      concurrency,
      elapsed_s: Math.round(elapsedS * 1000) / 1000,
      requests_per_s: Math.round(n / elapsedS),
      p50_us: round(percentile(sorted, 50)),
      p99_us: round(percentile(sorted, 99)),
      max_us: round(sorted[sorted.length - 1]),
    })}\n`,
  );
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: messageOf(error) })}\n`);
  process.exitCode = 1;
});
