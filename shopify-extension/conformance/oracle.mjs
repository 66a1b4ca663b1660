// Signing and validation through the official `@shopify/shopify-api` library.
//
// This module is the oracle the LeakGuard server is checked against: every value it produces is
// made by the library's own code (or its published test helpers) and then re-checked by the
// library's public validators. It must not re-implement an algorithm the library already has.

import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import { SignJWT, compactVerify } from 'jose';
import { createRequire } from 'node:module';
import { randomUUID, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The OAuth query signer `generateLocalHmac` is internal (hidden by the package's `exports` map);
// load the library's own file by path so the exact same routine signs our queries.
const require = createRequire(import.meta.url);
// `require.resolve` gives <package>/dist/cjs/lib/index.js; the ESM twin of the validator sits in
// <package>/dist/esm, the same tree `import '@shopify/shopify-api'` loads.
const libraryDist = dirname(dirname(dirname(require.resolve('@shopify/shopify-api'))));
const hmacValidatorUrl = pathToFileURL(join(libraryDist, 'esm', 'lib', 'utils', 'hmac-validator.mjs'));
const { generateLocalHmac } = await import(hmacValidatorUrl.href);

export const DEFAULT_API_VERSION = ApiVersion.July26;

/** `decodeSessionToken`'s clock tolerance for `exp` and `nbf`. */
export const SESSION_TOKEN_TOLERANCE_SECONDS = 10;

export class OracleError extends Error {}

/** A library instance for one app. The logger writes nothing: stdout carries one JSON object. */
export function createShopify({ apiKey = 'leakguard-conformance', secret }) {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new OracleError('secret must be a non-empty string');
  }
  return shopifyApi({
    apiKey,
    apiSecretKey: secret,
    hostName: 'leakguard.example.com',
    apiVersion: DEFAULT_API_VERSION,
    isEmbeddedApp: true,
    logger: { level: LogSeverity.Error, log: async () => {} },
  });
}

/**
 * Runs `fn` with the process clock fixed at `unixSeconds` (both `Date.now()` and `new Date()`),
 * so the library's freshness checks judge stored fixtures against a fixed time.
 */
export async function withFixedClock(unixSeconds, fn) {
  const RealDate = globalThis.Date;
  const fixedMs = unixSeconds * 1000;
  class FixedDate extends RealDate {
    /** @param {any[]} args */
    constructor(...args) {
      if (args.length === 0) {
        super(fixedMs);
      } else {
        super(.../** @type {[any]} */ (args));
      }
    }
    static now() {
      return fixedMs;
    }
  }
  globalThis.Date = /** @type {DateConstructor} */ (/** @type {unknown} */ (FixedDate));
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

/** @param {unknown} error */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

export function nowSeconds() {
  return Math.trunc(Date.now() / 1000);
}

/** `some-shop` → `some-shop.myshopify.com`; a full domain is kept as given. */
export function shopDomain(shop) {
  if (typeof shop !== 'string' || shop.length === 0) {
    throw new OracleError('shop must be a non-empty string');
  }
  return shop.includes('.') ? shop : `${shop}.myshopify.com`;
}

function requireString(args, key) {
  const value = args[key];
  if (typeof value !== 'string') {
    throw new OracleError(`${key} must be a string`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Webhooks

/** A fake HTTP request as the web-api adapter expects it. */
function webhookRequest(headers, body) {
  return new Request('https://leakguard.example.com/shopify/webhooks', {
    method: 'POST',
    headers,
    body,
  });
}

/** Validates a delivery with `shopify.webhooks.validate`. Returns the library's verdict. */
export async function validateWebhook({ secret, headers, body }) {
  if (typeof body !== 'string') {
    throw new OracleError('body must be a string');
  }
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new OracleError('headers must be an object of name: value');
  }
  const shopify = createShopify({ secret });
  const rawRequest = webhookRequest(headers, body.length > 0 ? body : undefined);
  return shopify.webhooks.validate({ rawBody: body, rawRequest });
}

/**
 * Signs a webhook delivery the way Shopify sends it. The HMAC comes from the library's own test
 * helper (`getHmac`, the code path its test suite signs webhooks with) and the full delivery is
 * then checked with `shopify.webhooks.validate`; a delivery the library rejects is an error.
 */
export async function signWebhook(args) {
  const secret = requireString(args, 'secret');
  const body = requireString(args, 'body');
  const topic = requireString(args, 'topic');
  const shop = shopDomain(requireString(args, 'shop'));
  const webhookId = typeof args.webhook_id === 'string' ? args.webhook_id : randomUUID();
  const apiVersion = typeof args.api_version === 'string' ? args.api_version : DEFAULT_API_VERSION;
  const triggeredAt =
    typeof args.triggered_at === 'string' ? args.triggered_at : new Date().toISOString();
  const eventId = typeof args.event_id === 'string' ? args.event_id : randomUUID();
  if (body.length === 0) {
    throw new OracleError('body must not be empty: Shopify never delivers an empty webhook');
  }

  const headers = {
    'Content-Type': 'application/json',
    'X-Shopify-Topic': topic,
    'X-Shopify-Hmac-Sha256': getHmac(body, secret),
    'X-Shopify-Shop-Domain': shop,
    'X-Shopify-API-Version': apiVersion,
    'X-Shopify-Webhook-Id': webhookId,
    'X-Shopify-Triggered-At': triggeredAt,
    'X-Shopify-Event-Id': eventId,
  };
  if (typeof args.name === 'string') {
    headers['X-Shopify-Name'] = args.name;
  }

  const verdict = await validateWebhook({ secret, headers, body });
  if (!verdict.valid) {
    throw new OracleError(`the library rejected its own signed webhook: ${verdict.reason}`);
  }
  return { headers, body, library: verdict };
}

// ---------------------------------------------------------------------------------------------
// OAuth / admin query HMAC

/**
 * Builds a signed admin query (install, OAuth callback, App URL load). The HMAC comes from the
 * library's `generateLocalHmac` and the result must pass `shopify.utils.validateHmac` with the
 * clock fixed at the query's timestamp.
 */
export async function signOauthQuery(args) {
  const secret = requireString(args, 'secret');
  const shop = shopDomain(requireString(args, 'shop'));
  const timestamp = args.timestamp === undefined ? nowSeconds() : Number(args.timestamp);
  if (!Number.isInteger(timestamp)) {
    throw new OracleError('timestamp must be an integer (unix seconds)');
  }
  const extra = args.extra ?? {};
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
    throw new OracleError('extra must be an object of name: value');
  }
  const params = { ...extra, shop, timestamp: String(timestamp) };
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== 'string') {
      throw new OracleError(`query parameter ${key} must be a string`);
    }
  }
  delete params.hmac;
  delete params.signature;

  const shopify = createShopify({ secret });
  const hmac = await generateLocalHmac(shopify.config)(params, 'admin');
  const signed = new URLSearchParams({ ...params, hmac });
  const query = signed.toString().replace(/\+/g, '%20');

  const validAtTimestamp = await withFixedClock(timestamp, () =>
    shopify.utils.validateHmac(Object.fromEntries(new URLSearchParams(query))),
  );
  if (!validAtTimestamp) {
    throw new OracleError('the library rejected its own signed query');
  }
  const validNow = await validateOauthQuery({ secret, query });
  return { query, hmac, valid_now: validNow.valid };
}

/**
 * Validates an admin query with `shopify.utils.validateHmac`, at `now` when given.
 * @param {{secret: string, query: string, now?: number}} args
 */
export async function validateOauthQuery({ secret, query, now }) {
  if (typeof query !== 'string') {
    throw new OracleError('query must be a string');
  }
  const shopify = createShopify({ secret });
  const run = async () => {
    try {
      return { valid: await shopify.utils.validateHmac(new URLSearchParams(query)) };
    } catch (error) {
      return { valid: false, error: messageOf(error) };
    }
  };
  return now === undefined ? run() : withFixedClock(Number(now), run);
}

// ---------------------------------------------------------------------------------------------
// Session tokens (App Bridge ID tokens)

function optionalInteger(args, key, fallback) {
  if (args[key] === undefined) return fallback;
  const value = Number(args[key]);
  if (!Number.isInteger(value)) {
    throw new OracleError(`${key} must be an integer`);
  }
  return value;
}

/**
 * Signs a session token as App Bridge issues it: header {alg: HS256, typ: JWT}, payload claims
 * in App Bridge's order. The library's verifier then checks it: with the clock inside the
 * token's validity window (proves the signature and audience), and at the real clock (reported).
 */
export async function signSessionToken(args) {
  const apiKey = requireString(args, 'api_key');
  const secret = requireString(args, 'secret');
  const shop = shopDomain(requireString(args, 'shop'));
  const iat = optionalInteger(args, 'iat', nowSeconds());
  const exp = iat + optionalInteger(args, 'exp_offset', 60);
  const nbf = iat + optionalInteger(args, 'nbf_offset', 0);
  const sub = args.sub === undefined ? '42' : String(args.sub);
  const jti = typeof args.jti === 'string' ? args.jti : randomUUID();
  const sid = typeof args.sid === 'string' ? args.sid : randomBytes(16).toString('hex');

  const payload = {
    aud: apiKey,
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    sub,
    iat,
    nbf,
    exp,
    jti,
    sid,
  };
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));

  // The library accepts a token while nbf - 10 <= now < exp + 10. When that window exists, the
  // token must pass the library's verifier inside it; a deliberately impossible token (exp far
  // before nbf) can only have its signature checked.
  const windowStart = nbf - SESSION_TOKEN_TOLERANCE_SECONDS;
  const windowEnd = exp + SESSION_TOKEN_TOLERANCE_SECONDS - 1;
  let libraryChecked = false;
  if (windowStart <= windowEnd) {
    const insideWindow = Math.min(Math.max(iat, windowStart), windowEnd);
    const verdict = await validateSessionToken({ api_key: apiKey, secret, token, now: insideWindow });
    if (!verdict.valid) {
      throw new OracleError(`the library rejected its own session token: ${verdict.error}`);
    }
    libraryChecked = true;
  } else {
    await compactVerify(token, new TextEncoder().encode(secret));
  }
  const now = await validateSessionToken({ api_key: apiKey, secret, token });
  return { token, payload, library_checked: libraryChecked, valid_now: now.valid };
}

/**
 * Verifies a session token with `shopify.session.decodeSessionToken`, at `now` when given.
 * @param {{api_key: string, secret: string, token: string, now?: number}} args
 */
export async function validateSessionToken({ api_key: apiKey, secret, token, now }) {
  if (typeof token !== 'string') {
    throw new OracleError('token must be a string');
  }
  const shopify = createShopify({ apiKey, secret });
  const run = async () => {
    try {
      const payload = await shopify.session.decodeSessionToken(token);
      return { valid: true, payload };
    } catch (error) {
      return { valid: false, error: messageOf(error) };
    }
  };
  return now === undefined ? run() : withFixedClock(Number(now), run);
}

// ---------------------------------------------------------------------------------------------
// Shop and host sanitising

/**
 * The library's `sanitizeShop` and `sanitizeHost` verdicts (null when rejected). LeakGuard's own
 * rule is stricter (only `{name}.myshopify.com`); the server tests compare against both.
 * @param {{shop?: string, host?: string}} args
 */
export async function sanitize(args) {
  const shopify = createShopify({ secret: 'sanitize' });
  /** @type {{shop?: string | null, host?: string | null}} */
  const out = {};
  if (args.shop !== undefined) out.shop = shopify.utils.sanitizeShop(requireString(args, 'shop'));
  if (args.host !== undefined) out.host = shopify.utils.sanitizeHost(requireString(args, 'host'));
  if (Object.keys(out).length === 0) throw new OracleError('give shop and/or host');
  return out;
}
