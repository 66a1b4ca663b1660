import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fetchCustomerFindings,
  findingsPath,
  MalformedResponseError,
  parseCustomerFindings,
  RETRY_INVALID_SESSION_HEADER,
  type FindingsResult,
} from '../src/api.ts';

const GID = 'gid://shopify/Customer/123';
const BODY = {
  customer_id: GID,
  findings: [
    {
      id: '0193b0a0-0000-7000-8000-000000000001',
      kind: 'mass_export',
      severity: 'high',
      title: 'Customer list exported by an integration',
      detected_at: '2026-11-27T09:15:00Z',
      principal: 'Acme Sync',
    },
  ],
  data_requests: [
    {
      topic: 'customers/data_request',
      received_at: '2026-11-20T08:00:00Z',
      due_at: '2026-12-20T08:00:00Z',
      status: 'open',
    },
  ],
};

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(responses: Array<() => Response | Promise<Response>>) {
  const calls: Call[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init });
    const next = responses.shift();
    if (next === undefined) throw new Error('unexpected extra request');
    return next();
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    });
}

function tokens(...values: Array<string | null>) {
  let issued = 0;
  const idToken = async () => {
    const value = values[Math.min(issued, values.length - 1)] ?? null;
    issued += 1;
    return value;
  };
  return { idToken, issued: () => issued };
}

test('the customer GID travels as one percent-encoded path segment', () => {
  assert.equal(findingsPath(GID), '/api/v1/customers/gid%3A%2F%2Fshopify%2FCustomer%2F123/findings');
  assert.throws(() => findingsPath('gid://shopify/Order/1'), TypeError);
  assert.throws(() => findingsPath('../../admin'), TypeError);
});

test('a findings request sends the ID token as a bearer token and parses the response', async () => {
  const { fetch, calls } = fakeFetch([json(BODY)]);
  const result = await fetchCustomerFindings(GID, {
    idToken: tokens('id-token-1').idToken,
    fetch,
    baseUrl: 'https://leakguard.example.com',
  });
  assert.deepEqual(result, { status: 'ok', data: BODY });
  assert.equal(calls.length, 1);
  assert.equal(
    calls[0]?.url,
    'https://leakguard.example.com/api/v1/customers/gid%3A%2F%2Fshopify%2FCustomer%2F123/findings',
  );
  const headers = calls[0]?.init?.headers as Record<string, string>;
  assert.equal(headers.Authorization, 'Bearer id-token-1');
  assert.equal(headers.Accept, 'application/json');
  assert.equal(calls[0]?.init?.method, 'GET');
});

test('without a base URL the request is relative to the app URL', async () => {
  const { fetch, calls } = fakeFetch([json(BODY)]);
  await fetchCustomerFindings(GID, { idToken: tokens('t').idToken, fetch });
  assert.equal(calls[0]?.url, '/api/v1/customers/gid%3A%2F%2Fshopify%2FCustomer%2F123/findings');
});

test('a 401 asking for a retry is retried once with a fresh token', async () => {
  const { fetch, calls } = fakeFetch([
    json({ code: 'invalid_session_token' }, 401, { [RETRY_INVALID_SESSION_HEADER]: '1' }),
    json(BODY),
  ]);
  const minted = tokens('stale', 'fresh');
  const result = await fetchCustomerFindings(GID, { idToken: minted.idToken, fetch });
  assert.equal(result.status, 'ok');
  assert.equal(minted.issued(), 2);
  assert.equal((calls[1]?.init?.headers as Record<string, string>).Authorization, 'Bearer fresh');
});

test('a 401 that persists, or one without the retry header, means the page must reload', async () => {
  const retried = fakeFetch([
    json({}, 401, { [RETRY_INVALID_SESSION_HEADER]: '1' }),
    json({}, 401, { [RETRY_INVALID_SESSION_HEADER]: '1' }),
  ]);
  assert.deepEqual(
    await fetchCustomerFindings(GID, { idToken: tokens('a', 'b').idToken, fetch: retried.fetch }),
    { status: 'unauthorized' },
  );
  assert.equal(retried.calls.length, 2);

  const plain = fakeFetch([json({}, 401)]);
  assert.deepEqual(
    await fetchCustomerFindings(GID, { idToken: tokens('a').idToken, fetch: plain.fetch }),
    { status: 'unauthorized' },
  );
  assert.equal(plain.calls.length, 1);
});

test('no ID token means unauthorized without any request', async () => {
  const { fetch, calls } = fakeFetch([]);
  assert.deepEqual(await fetchCustomerFindings(GID, { idToken: tokens(null).idToken, fetch }), {
    status: 'unauthorized',
  });
  const failing = async () => {
    throw new Error('admin refused');
  };
  assert.deepEqual(await fetchCustomerFindings(GID, { idToken: failing, fetch }), {
    status: 'unauthorized',
  });
  assert.equal(calls.length, 0);
});

test('404, 5xx, network failures, timeouts and bad JSON map to distinct results', async () => {
  const cases: Array<[() => Response | Promise<Response>, FindingsResult]> = [
    [json({ code: 'not_found' }, 404), { status: 'not_found' }],
    [json({ code: 'internal' }, 503), { status: 'error', reason: 'http', httpStatus: 503 }],
    [json({ code: 'forbidden' }, 403), { status: 'error', reason: 'http', httpStatus: 403 }],
    [
      () => {
        throw new TypeError('fetch failed');
      },
      { status: 'error', reason: 'network' },
    ],
    [
      () => {
        throw new DOMException('The operation timed out.', 'TimeoutError');
      },
      { status: 'error', reason: 'timeout' },
    ],
    [() => new Response('<html>', { status: 200 }), { status: 'error', reason: 'malformed', httpStatus: 200 }],
    [json({ ...BODY, customer_id: 'gid://shopify/Customer/999' }), { status: 'error', reason: 'malformed', httpStatus: 200 }],
  ];
  for (const [response, expected] of cases) {
    const { fetch } = fakeFetch([response]);
    assert.deepEqual(await fetchCustomerFindings(GID, { idToken: tokens('t').idToken, fetch }), expected);
  }
});

test('a slow backend is abandoned after the timeout', async () => {
  const hanging = (async (_url: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((_, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
    })) as typeof globalThis.fetch;
  const result = await fetchCustomerFindings(GID, { idToken: tokens('t').idToken, fetch: hanging, timeoutMs: 20 });
  assert.deepEqual(result, { status: 'error', reason: 'timeout' });
});

test('the parser accepts the documented shape and a missing data_requests list', () => {
  assert.deepEqual(parseCustomerFindings(BODY, GID), BODY);
  const { data_requests: _omitted, ...withoutRequests } = BODY;
  assert.deepEqual(parseCustomerFindings(withoutRequests).data_requests, []);
  const unknownKind = { ...BODY, findings: [{ ...BODY.findings[0], kind: 'pii_in_url' }] };
  assert.equal(parseCustomerFindings(unknownKind).findings[0]?.kind, 'pii_in_url');
});

test('the parser rejects unknown severities, statuses, bad timestamps and wrong types', () => {
  const finding = BODY.findings[0];
  const request = BODY.data_requests[0];
  const bad: unknown[] = [
    null,
    [],
    { ...BODY, findings: 'none' },
    { ...BODY, data_requests: {} },
    { ...BODY, customer_id: 123 },
    { ...BODY, findings: [{ ...finding, severity: 'severe' }] },
    { ...BODY, findings: [{ ...finding, detected_at: 'yesterday' }] },
    { ...BODY, findings: [{ ...finding, id: 7 }] },
    { ...BODY, findings: [null] },
    { ...BODY, data_requests: [{ ...request, status: 'pending' }] },
    { ...BODY, data_requests: [{ ...request, due_at: '' }] },
  ];
  for (const value of bad) {
    assert.throws(() => parseCustomerFindings(value), MalformedResponseError, JSON.stringify(value));
  }
});
