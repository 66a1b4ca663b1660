import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComponentChildren, VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { CustomerFindings } from '../src/api.ts';
import { CustomerFindingsBlock } from '../src/components/CustomerFindingsBlock.tsx';
import { FindingsView, type ViewState } from '../src/components/FindingsView.tsx';
import { englishMessages } from './messages.ts';

const messages = englishMessages();
const NOW = new Date('2026-12-01T00:00:00Z');
const GID = 'gid://shopify/Customer/123';

function view(state: ViewState) {
  return renderToString(<FindingsView state={state} messages={messages} now={NOW} onRetry={() => {}} />);
}

const DATA: CustomerFindings = {
  customer_id: GID,
  findings: [
    {
      id: 'f-low',
      kind: 'app_scope',
      severity: 'low',
      title: 'Theme app can read orders',
      detected_at: '2026-11-02T10:00:00Z',
      principal: 'Theme Helper',
    },
    {
      id: 'f-critical',
      kind: 'mass_export',
      severity: 'critical',
      title: 'All customers exported',
      detected_at: '2026-11-27T09:15:00Z',
      principal: 'Acme <Sync>',
    },
  ],
  data_requests: [
    {
      topic: 'customers/data_request',
      received_at: '2026-10-01T08:00:00Z',
      due_at: '2026-10-31T08:00:00Z',
      status: 'open',
    },
  ],
};

test('while loading the block shows a spinner inside the LeakGuard admin block', () => {
  const html = view({ status: 'loading' });
  assert.match(html, /^<s-admin-block heading="LeakGuard"/);
  assert.match(html, /<s-spinner accessibilityLabel="Checking LeakGuard for data-access findings…"/);
});

// Server rendering lowercases attribute names; in the admin Preact sets the element property.
test('findings render most severe first with severity badges, principal and date', () => {
  const html = view({ status: 'ok', data: DATA });
  assert.match(html, /collapsedSummary="2 findings, 1 open data request"/i);
  const critical = html.indexOf('All customers exported');
  const low = html.indexOf('Theme app can read orders');
  assert.ok(critical > 0 && low > critical, 'critical finding must come first');
  assert.match(html, /<s-badge tone="critical">Critical<\/s-badge>/);
  assert.match(html, /<s-badge tone="info">Low<\/s-badge>/);
  assert.match(html, /Mass export · By Acme &lt;Sync> · Detected Nov 27, 2026, 9:15 AM/);
  assert.match(html, /<s-heading>Privacy requests<\/s-heading>/);
  assert.match(html, /<s-badge tone="critical">Overdue<\/s-badge><s-text>Data request<\/s-text>/);
  assert.match(html, /Due Oct 31, 2026, 8:00 AM/);
});

test('a customer with nothing on record gets the empty message', () => {
  const html = view({ status: 'ok', data: { customer_id: GID, findings: [], data_requests: [] } });
  assert.match(html, /collapsedSummary="No findings"/i);
  assert.match(html, /LeakGuard has no data-access findings and no privacy requests for this customer\./);
  assert.doesNotMatch(html, /<s-badge/);
});

test('requests without findings say there are no findings and still list the requests', () => {
  const html = view({ status: 'ok', data: { ...DATA, findings: [] } });
  assert.match(html, /No data-access findings for this customer\./);
  assert.match(html, /Overdue/);
});

test('an expired session asks the merchant to reload', () => {
  const html = view({ status: 'unauthorized' });
  assert.match(html, /<s-banner tone="warning" heading="Session expired">/);
  assert.match(html, /Reload the page/);
  assert.doesNotMatch(html, /Try again/);
});

test('a failed request shows a critical banner with a retry button', () => {
  for (const state of [
    { status: 'error', reason: 'network' },
    { status: 'error', reason: 'http', httpStatus: 500 },
    { status: 'error', reason: 'malformed', httpStatus: 200 },
  ] as const) {
    const html = view(state);
    assert.match(html, /<s-banner tone="critical" heading="LeakGuard is unavailable">/);
    assert.match(html, /The findings couldn't be loaded\. Try again in a moment\.<\/s-banner><s-button>Try again<\/s-button>/);
  }
});

test('a store LeakGuard does not know points to the app setup', () => {
  assert.match(view({ status: 'not_found' }), /isn't set up for this store yet/);
});

test('the block starts in the loading state for a customer and explains when there is none', () => {
  const load = async () => ({ status: 'not_found' }) as const;
  const loading = renderToString(<CustomerFindingsBlock customerGid={GID} load={load} messages={messages} />);
  assert.match(loading, /<s-spinner/);
  const none = renderToString(<CustomerFindingsBlock customerGid={undefined} load={load} messages={messages} />);
  assert.match(none, /Open a customer to see LeakGuard's findings\./);
});

/** Expands function components (hook-free ones only) and returns every element with `tag`. */
function findElements(node: ComponentChildren, tag: string): VNode<Record<string, unknown>>[] {
  if (node === null || node === undefined || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((child) => findElements(child, tag));
  const vnode = node as VNode<Record<string, unknown>>;
  if (typeof vnode.type === 'function') {
    const render = vnode.type as (props: Record<string, unknown>) => ComponentChildren;
    return findElements(render(vnode.props), tag);
  }
  const own = vnode.type === tag ? [vnode] : [];
  return [...own, ...findElements(vnode.props.children as ComponentChildren, tag)];
}

test('the retry button asks the container to load again', () => {
  let retries = 0;
  const tree = FindingsView({
    state: { status: 'error', reason: 'network' },
    messages,
    now: NOW,
    onRetry: () => {
      retries += 1;
    },
  });
  const buttons = findElements(tree, 's-button');
  assert.equal(buttons.length, 1);
  (buttons[0]?.props.onClick as () => void)();
  assert.equal(retries, 1);
});
