import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomerFindings, DataRequest, Finding } from '../src/api.ts';
import {
  kindLabel,
  requestState,
  severityTone,
  sortDataRequests,
  sortFindings,
  summaryText,
  topicLabel,
} from '../src/presentation.ts';
import { englishMessages } from './messages.ts';

const messages = englishMessages();

function finding(id: string, severity: Finding['severity'], detectedAt: string): Finding {
  return { id, kind: 'mass_export', severity, title: id, detected_at: detectedAt, principal: 'p' };
}

function request(status: DataRequest['status'], receivedAt: string, dueAt: string): DataRequest {
  return { topic: 'customers/data_request', received_at: receivedAt, due_at: dueAt, status };
}

test('findings are ordered by severity, then most recent first, then id', () => {
  const sorted = sortFindings([
    finding('low-new', 'low', '2026-11-27T00:00:00Z'),
    finding('high-old', 'high', '2026-10-01T00:00:00Z'),
    finding('critical', 'critical', '2026-01-01T00:00:00Z'),
    finding('high-new', 'high', '2026-11-01T00:00:00Z'),
    finding('b-medium', 'medium', '2026-11-01T00:00:00Z'),
    finding('a-medium', 'medium', '2026-11-01T00:00:00Z'),
  ]);
  assert.deepEqual(
    sorted.map((f) => f.id),
    ['critical', 'high-new', 'high-old', 'a-medium', 'b-medium', 'low-new'],
  );
});

test('each severity has its own badge tone, critical being the loudest', () => {
  assert.equal(severityTone('critical'), 'critical');
  assert.equal(severityTone('high'), 'warning');
  assert.equal(severityTone('medium'), 'caution');
  assert.equal(severityTone('low'), 'info');
});

test('an open request past its due date is overdue; a done one never is', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  assert.equal(requestState(request('open', '2026-10-01T00:00:00Z', '2026-10-31T00:00:00Z'), now), 'overdue');
  assert.equal(requestState(request('open', '2026-11-20T00:00:00Z', '2026-12-20T00:00:00Z'), now), 'open');
  assert.equal(requestState(request('done', '2026-10-01T00:00:00Z', '2026-10-31T00:00:00Z'), now), 'done');
});

test('open requests come first by deadline, then done ones newest first', () => {
  const sorted = sortDataRequests([
    request('done', '2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z'),
    request('open', '2026-11-20T00:00:00Z', '2026-12-20T00:00:00Z'),
    request('done', '2026-10-01T00:00:00Z', '2026-10-31T00:00:00Z'),
    request('open', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'),
  ]);
  assert.deepEqual(
    sorted.map((r) => `${r.status}:${r.received_at.slice(0, 10)}`),
    ['open:2026-11-01', 'open:2026-11-20', 'done:2026-10-01', 'done:2026-09-01'],
  );
});

test('the collapsed summary counts findings and open requests with plurals', () => {
  const data = (findings: number, open: number, done: number): CustomerFindings => ({
    customer_id: 'gid://shopify/Customer/1',
    findings: Array.from({ length: findings }, (_, i) => finding(`f${i}`, 'low', '2026-11-01T00:00:00Z')),
    data_requests: [
      ...Array.from({ length: open }, () => request('open', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')),
      ...Array.from({ length: done }, () => request('done', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z')),
    ],
  });
  assert.equal(summaryText(messages, data(0, 0, 3)), 'No findings');
  assert.equal(summaryText(messages, data(1, 0, 0)), '1 finding');
  assert.equal(summaryText(messages, data(2, 1, 0)), '2 findings, 1 open data request');
  assert.equal(summaryText(messages, data(0, 3, 1)), '3 open data requests');
});

test('unknown kinds and topics get a generic label instead of a missing string', () => {
  assert.equal(kindLabel(messages, 'mass_export'), 'Mass export');
  assert.equal(kindLabel(messages, 'app_scope'), 'App access scope');
  assert.equal(kindLabel(messages, 'something_new'), 'Finding');
  assert.equal(topicLabel(messages, 'customers/data_request'), 'Data request');
  assert.equal(topicLabel(messages, 'customers/redact'), 'Erasure request');
  assert.equal(topicLabel(messages, 'shop/redact'), 'Privacy request');
});
