// The admin injects the target's API as the `shopify` global.
import type { Api } from '@shopify/ui-extensions/admin.customer-details.block.render';

declare global {
  const shopify: Api;
}
