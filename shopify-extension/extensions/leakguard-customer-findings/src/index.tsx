// Entry point of the `admin.customer-details.block.render` target: reads the customer on screen
// and the admin APIs from the `shopify` global, wires them to the API client and renders.

import '@shopify/ui-extensions/preact';
import { render } from 'preact';
import { fetchCustomerFindings } from './api.ts';
import { CustomerFindingsBlock } from './components/CustomerFindingsBlock.tsx';

export default async () => {
  const customerGid = shopify.data.selected[0]?.id;
  const load = (gid: string) =>
    fetchCustomerFindings(gid, { idToken: () => shopify.auth.idToken() });
  render(
    <CustomerFindingsBlock customerGid={customerGid} load={load} messages={shopify.i18n} />,
    document.body,
  );
};
