// What the block shows for each state of the findings request. UI only: the data and the
// messages come in as props, so every state renders in a test without a browser.

import type { CustomerFindings, DataRequest, Finding, FindingsResult } from '../api.ts';
import {
  formatTimestamp,
  kindLabel,
  requestState,
  requestTone,
  severityTone,
  sortDataRequests,
  sortFindings,
  summaryText,
  topicLabel,
  type Messages,
} from '../presentation.ts';

export type ViewState = { status: 'loading' } | { status: 'no_customer' } | FindingsResult;

export interface FindingsViewProps {
  state: ViewState;
  messages: Messages;
  now: Date;
  onRetry: () => void;
}

export function FindingsView({ state, messages, now, onRetry }: FindingsViewProps) {
  const t = messages.translate;
  const summary = state.status === 'ok' ? summaryText(messages, state.data) : '';
  return (
    <s-admin-block heading={t('heading')} collapsedSummary={summary}>
      <StateBody state={state} messages={messages} now={now} onRetry={onRetry} />
    </s-admin-block>
  );
}

function StateBody({ state, messages, now, onRetry }: FindingsViewProps) {
  const t = messages.translate;
  switch (state.status) {
    case 'loading':
      return (
        <s-stack direction="inline" gap="small-200" alignItems="center">
          <s-spinner accessibilityLabel={t('loading')} />
          <s-text color="subdued">{t('loading')}</s-text>
        </s-stack>
      );
    case 'no_customer':
      return <s-paragraph>{t('errors.noCustomer')}</s-paragraph>;
    case 'unauthorized':
      return (
        <s-banner tone="warning" heading={t('errors.sessionExpired.heading')}>
          {t('errors.sessionExpired.body')}
        </s-banner>
      );
    case 'not_found':
      return (
        <s-banner tone="info" heading={t('heading')}>
          {t('errors.notFound')}
        </s-banner>
      );
    case 'error':
      return (
        <s-stack direction="block" gap="base">
          <s-banner tone="critical" heading={t('errors.unavailable.heading')}>
            {t('errors.unavailable.body')}
          </s-banner>
          <s-button onClick={onRetry}>{t('errors.retry')}</s-button>
        </s-stack>
      );
    case 'ok':
      return <Findings data={state.data} messages={messages} now={now} />;
  }
}

function Findings({ data, messages, now }: { data: CustomerFindings; messages: Messages; now: Date }) {
  const t = messages.translate;
  if (data.findings.length === 0 && data.data_requests.length === 0) {
    return <s-paragraph>{t('empty')}</s-paragraph>;
  }
  return (
    <s-stack direction="block" gap="base">
      <s-heading>{t('findings.heading')}</s-heading>
      {data.findings.length === 0 ? (
        <s-paragraph>{t('findings.none')}</s-paragraph>
      ) : (
        <s-stack direction="block" gap="small-200">
          {sortFindings(data.findings).map((finding) => (
            <FindingRow key={finding.id} finding={finding} messages={messages} />
          ))}
        </s-stack>
      )}
      {data.data_requests.length > 0 && (
        <>
          <s-divider />
          <s-heading>{t('requests.heading')}</s-heading>
          <s-stack direction="block" gap="small-200">
            {sortDataRequests(data.data_requests).map((request) => (
              <DataRequestRow
                key={`${request.topic}@${request.received_at}`}
                request={request}
                messages={messages}
                now={now}
              />
            ))}
          </s-stack>
        </>
      )}
    </s-stack>
  );
}

function FindingRow({ finding, messages }: { finding: Finding; messages: Messages }) {
  const t = messages.translate;
  return (
    <s-stack direction="block" gap="small-400">
      <s-stack direction="inline" gap="small-200" alignItems="center">
        <s-badge tone={severityTone(finding.severity)}>{t(`severity.${finding.severity}`)}</s-badge>
        <s-text type="strong">{finding.title}</s-text>
      </s-stack>
      <s-text color="subdued">
        {kindLabel(messages, finding.kind)} · {t('findings.principal', { principal: finding.principal })} ·{' '}
        {t('findings.detected', { date: formatTimestamp(messages, finding.detected_at) })}
      </s-text>
    </s-stack>
  );
}

function DataRequestRow({ request, messages, now }: { request: DataRequest; messages: Messages; now: Date }) {
  const t = messages.translate;
  const state = requestState(request, now);
  return (
    <s-stack direction="inline" gap="small-200" alignItems="center">
      <s-badge tone={requestTone(state)}>{t(`requests.status.${state}`)}</s-badge>
      <s-text>{topicLabel(messages, request.topic)}</s-text>
      <s-text color="subdued">
        {t('requests.received', { date: formatTimestamp(messages, request.received_at) })} ·{' '}
        {t('requests.due', { date: formatTimestamp(messages, request.due_at) })}
      </s-text>
    </s-stack>
  );
}
