// Pure presentation rules shared by the components: ordering, tones, labels, the block summary.
// No I/O and no rendering here, so every rule is unit-tested without a DOM.

import type { CustomerFindings, DataRequest, Finding, Severity } from './api.ts';

/** The slice of the admin `i18n` API the components use; `shopify.i18n` satisfies it. */
export interface Messages {
  translate: (key: string, options?: Record<string, string | number>) => string;
  formatDate: (date: Date, options?: Intl.DateTimeFormatOptions) => string;
}

export type BadgeTone = 'critical' | 'warning' | 'caution' | 'info' | 'success' | 'neutral';

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

const SEVERITY_TONE: Record<Severity, BadgeTone> = {
  critical: 'critical',
  high: 'warning',
  medium: 'caution',
  low: 'info',
};

export function severityTone(severity: Severity): BadgeTone {
  return SEVERITY_TONE[severity];
}

/** Most severe first; within a severity, most recent first; then by id for a stable order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      Date.parse(b.detected_at) - Date.parse(a.detected_at) ||
      a.id.localeCompare(b.id),
  );
}

export type RequestState = 'open' | 'overdue' | 'done';

export function requestState(request: DataRequest, now: Date): RequestState {
  if (request.status === 'done') return 'done';
  return Date.parse(request.due_at) < now.getTime() ? 'overdue' : 'open';
}

const REQUEST_STATE_TONE: Record<RequestState, BadgeTone> = {
  overdue: 'critical',
  open: 'warning',
  done: 'success',
};

export function requestTone(state: RequestState): BadgeTone {
  return REQUEST_STATE_TONE[state];
}

/** Open requests first, earliest deadline first; completed ones after, newest first. */
export function sortDataRequests(requests: readonly DataRequest[]): DataRequest[] {
  return [...requests].sort((a, b) => {
    if (a.status !== b.status) return a.status === 'open' ? -1 : 1;
    return a.status === 'open'
      ? Date.parse(a.due_at) - Date.parse(b.due_at)
      : Date.parse(b.received_at) - Date.parse(a.received_at);
  });
}

const KNOWN_KINDS = new Set(['mass_export', 'app_scope']);

export function kindLabel(messages: Messages, kind: string): string {
  return messages.translate(KNOWN_KINDS.has(kind) ? `kind.${kind}` : 'kind.other');
}

const KNOWN_TOPICS = new Set(['customers/data_request', 'customers/redact']);

export function topicLabel(messages: Messages, topic: string): string {
  return messages.translate(
    KNOWN_TOPICS.has(topic) ? `requests.topic.${topic}` : 'requests.topic.other',
  );
}

export function formatTimestamp(messages: Messages, rfc3339: string): string {
  return messages.formatDate(new Date(rfc3339), { dateStyle: 'medium', timeStyle: 'short' });
}

/** Shown in the collapsed block: "2 findings, 1 open data request" or "No findings". */
export function summaryText(messages: Messages, data: CustomerFindings): string {
  const openRequests = data.data_requests.filter((request) => request.status === 'open').length;
  const parts: string[] = [];
  if (data.findings.length > 0) {
    parts.push(messages.translate('summary.findings', { count: data.findings.length }));
  }
  if (openRequests > 0) {
    parts.push(messages.translate('summary.openRequests', { count: openRequests }));
  }
  return parts.length > 0 ? parts.join(', ') : messages.translate('summary.clear');
}
