// The block's container: runs the load through the injected loader and hands the state to the
// view. It holds no network code; `load` comes from src/api.ts via the entry point.

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { FindingsResult } from '../api.ts';
import type { Messages } from '../presentation.ts';
import { FindingsView, type ViewState } from './FindingsView.tsx';

export interface CustomerFindingsBlockProps {
  /** The customer on screen, or undefined when the admin passed none. */
  customerGid: string | undefined;
  load: (customerGid: string) => Promise<FindingsResult>;
  messages: Messages;
}

export function CustomerFindingsBlock({ customerGid, load, messages }: CustomerFindingsBlockProps) {
  const [state, setState] = useState<ViewState>(
    customerGid === undefined ? { status: 'no_customer' } : { status: 'loading' },
  );
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (customerGid === undefined) {
      setState({ status: 'no_customer' });
      return;
    }
    let current = true;
    setState({ status: 'loading' });
    load(customerGid).then(
      (result) => current && setState(result),
      () => current && setState({ status: 'error', reason: 'network' }),
    );
    return () => {
      current = false;
    };
  }, [customerGid, load, attempt]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  return <FindingsView state={state} messages={messages} now={new Date()} onRetry={retry} />;
}
