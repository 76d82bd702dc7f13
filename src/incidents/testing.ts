/** A builder for the action items unit tests start from: an open P1 item, with overrides. */
import type { ActionItem } from './action-items.js';

export function testActionItem(over: Partial<ActionItem> = {}): ActionItem {
  return {
    id: 'x',
    postmortemId: 'pm',
    title: 'do it',
    category: 'prevent',
    priority: 'P1',
    status: 'open',
    createdAtMs: 0,
    updatedAtMs: 0,
    ...over,
  };
}
