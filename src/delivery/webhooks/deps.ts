/**
 * What the webhook routes need, built from the delivery service's deps and the `delivery` settings
 * (the composition root's one line: `deliveryWebhookRoutes(deliveryWebhookDeps(deliveryDeps, config.delivery))`).
 */
import { type DeliveryDeps, recordChanges, recordDeployment } from '../service.js';
import type { WebhookDeps } from './receive.js';
import { seenDeliveries } from './store.js';

/** The `delivery` settings the webhooks read; an empty secret turns its webhook off. */
export interface WebhookSettings {
  readonly githubSecret: string;
  readonly gitlabToken: string;
  readonly webhookToken: string;
  readonly repositories: Readonly<Record<string, string>>;
}

export function deliveryWebhookDeps(deps: DeliveryDeps, settings: WebhookSettings): WebhookDeps {
  return {
    secrets: {
      github: settings.githubSecret || undefined,
      gitlab: settings.gitlabToken || undefined,
      webhook: settings.webhookToken || undefined,
    },
    repositories: settings.repositories,
    recordDeployment: (input, actor) => recordDeployment(deps, input, actor),
    recordChanges: (input) => recordChanges(deps, input),
    seen: seenDeliveries(deps.db),
    now: () => deps.clock.now(),
  };
}
