// Every network call of the extension lives here: components never call fetch.
//
// The backend endpoint is `GET /api/v1/customers/{customerGid}/findings` on the app's own host.
// Relative URLs resolve against the app's `application_url` inside Shopify admin; the request
// always carries `Authorization: Bearer <ID token>` from `shopify.auth.idToken()`.

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const DATA_REQUEST_STATUSES = ['open', 'done'] as const;
export type DataRequestStatus = (typeof DATA_REQUEST_STATUSES)[number];

export interface Finding {
  id: string;
  /** `mass_export`, `app_scope`, …; new kinds may appear without a client release. */
  kind: string;
  severity: Severity;
  title: string;
  /** RFC 3339. */
  detected_at: string;
  /** Who accessed the data: an app, a staff member, an integration. */
  principal: string;
}

export interface DataRequest {
  /** A privacy compliance topic, e.g. `customers/data_request`. */
  topic: string;
  received_at: string;
  due_at: string;
  status: DataRequestStatus;
}

export interface CustomerFindings {
  customer_id: string;
  findings: Finding[];
  data_requests: DataRequest[];
}

export type FindingsResult =
  | { status: 'ok'; data: CustomerFindings }
  /** The session could not be authenticated even with a fresh ID token: the page must reload. */
  | { status: 'unauthorized' }
  /** LeakGuard has no tenant for this shop (not set up, or uninstalled). */
  | { status: 'not_found' }
  | { status: 'error'; reason: 'network' | 'timeout' | 'http' | 'malformed'; httpStatus?: number };

export interface ApiClientOptions {
  /** Returns a fresh Shopify ID token (`shopify.auth.idToken`); never cached by the client. */
  idToken: () => Promise<string | null>;
  /** Absolute origin of the backend; empty means relative to the app URL (the admin default). */
  baseUrl?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Header the backend sets on a 401 when a fresh session token may succeed (App Bridge contract). */
export const RETRY_INVALID_SESSION_HEADER = 'X-Shopify-Retry-Invalid-Session-Request';
const DEFAULT_TIMEOUT_MS = 10_000;
const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/\d+$/;

export class MalformedResponseError extends Error {}

/** `/api/v1/customers/gid%3A%2F%2Fshopify%2FCustomer%2F123/findings`: the GID is one path segment. */
export function findingsPath(customerGid: string): string {
  if (!CUSTOMER_GID.test(customerGid)) {
    throw new TypeError('customerGid must look like gid://shopify/Customer/<id>');
  }
  return `/api/v1/customers/${encodeURIComponent(customerGid)}/findings`;
}

export async function fetchCustomerFindings(
  customerGid: string,
  options: ApiClientOptions,
): Promise<FindingsResult> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const path = findingsPath(customerGid);
  const url = options.baseUrl ? new URL(path, options.baseUrl).toString() : path;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  let response: Response | undefined;
  // One retry with a fresh token when the backend says the session token was merely stale.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const token = await options.idToken().catch(() => null);
    if (!token) {
      return { status: 'unauthorized' };
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
    try {
      response = await doFetch(url, {
        method: 'GET',
        headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
        signal: abort.signal,
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      return { status: 'error', reason: timedOut ? 'timeout' : 'network' };
    } finally {
      clearTimeout(timer);
    }
    const retryable = response.headers.get(RETRY_INVALID_SESSION_HEADER) === '1';
    if (response.status !== 401 || !retryable) break;
  }
  if (response === undefined) {
    return { status: 'error', reason: 'network' };
  }

  if (response.status === 401) return { status: 'unauthorized' };
  if (response.status === 404) return { status: 'not_found' };
  if (!response.ok) return { status: 'error', reason: 'http', httpStatus: response.status };

  try {
    const data = parseCustomerFindings(await response.json(), customerGid);
    return { status: 'ok', data };
  } catch {
    return { status: 'error', reason: 'malformed', httpStatus: response.status };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string') {
    throw new MalformedResponseError(`${where}.${key} must be a string`);
  }
  return value;
}

function timestampField(record: Record<string, unknown>, key: string, where: string): string {
  const value = stringField(record, key, where);
  if (Number.isNaN(Date.parse(value))) {
    throw new MalformedResponseError(`${where}.${key} must be an RFC 3339 timestamp`);
  }
  return value;
}

function oneOf<T extends string>(allowed: readonly T[], value: string, where: string): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) {
    throw new MalformedResponseError(`${where} must be one of ${allowed.join(', ')}`);
  }
  return match;
}

/**
 * Checks the backend's JSON before the UI trusts it. An unknown severity or status is an error,
 * not a silent downgrade: a security finding must never render as less severe than it is.
 */
export function parseCustomerFindings(json: unknown, expectedCustomerGid?: string): CustomerFindings {
  if (!isRecord(json)) throw new MalformedResponseError('response must be a JSON object');
  const customerId = stringField(json, 'customer_id', 'response');
  if (expectedCustomerGid !== undefined && customerId !== expectedCustomerGid) {
    throw new MalformedResponseError('response is for another customer');
  }
  const rawFindings = json.findings;
  const rawRequests = json.data_requests ?? [];
  if (!Array.isArray(rawFindings)) throw new MalformedResponseError('findings must be an array');
  if (!Array.isArray(rawRequests)) throw new MalformedResponseError('data_requests must be an array');

  const findings = rawFindings.map((item: unknown, index): Finding => {
    const where = `findings[${index}]`;
    if (!isRecord(item)) throw new MalformedResponseError(`${where} must be an object`);
    return {
      id: stringField(item, 'id', where),
      kind: stringField(item, 'kind', where),
      severity: oneOf(SEVERITIES, stringField(item, 'severity', where), `${where}.severity`),
      title: stringField(item, 'title', where),
      detected_at: timestampField(item, 'detected_at', where),
      principal: stringField(item, 'principal', where),
    };
  });
  const dataRequests = rawRequests.map((item: unknown, index): DataRequest => {
    const where = `data_requests[${index}]`;
    if (!isRecord(item)) throw new MalformedResponseError(`${where} must be an object`);
    return {
      topic: stringField(item, 'topic', where),
      received_at: timestampField(item, 'received_at', where),
      due_at: timestampField(item, 'due_at', where),
      status: oneOf(DATA_REQUEST_STATUSES, stringField(item, 'status', where), `${where}.status`),
    };
  });
  return { customer_id: customerId, findings, data_requests: dataRequests };
}
