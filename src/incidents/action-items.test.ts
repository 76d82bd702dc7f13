import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../platform/markdown.js';
import {
  ACTION_ITEM_CATEGORIES,
  ACTION_ITEM_PRIORITIES,
  ACTION_ITEM_STATUSES,
  ACTION_ITEMS_PLACEHOLDER,
  type ActionItem,
  actionItemsTable,
  isOverdue,
  policyBreaches,
  publishBlockers,
  withActionItems,
} from './action-items.js';
import type { BudgetImpact } from './impact.js';

const item = (over: Partial<ActionItem> = {}): ActionItem => ({
  id: 'a',
  postmortemId: 'pm',
  title: 'Add a canary stage',
  category: 'prevent',
  priority: 'P0',
  status: 'open',
  createdAtMs: 0,
  updatedAtMs: 0,
  ...over,
});

const impact = (slo: string, shareOfBudget: number | null): BudgetImpact => ({
  slo,
  from: '',
  to: '',
  unit: 'events',
  consumed: 1,
  shareOfBudget,
});

describe('isOverdue', () => {
  it('is true only for open items due before today', () => {
    expect(isOverdue(item({ dueDate: '2026-11-22' }), '2026-11-23')).toBe(true);
    expect(isOverdue(item({ dueDate: '2026-11-23' }), '2026-11-23')).toBe(false);
    expect(isOverdue(item({ dueDate: '2026-11-22', status: 'done' }), '2026-11-23')).toBe(false);
    expect(isOverdue(item({ dueDate: undefined }), '2026-11-23')).toBe(false);
  });
});

describe('the budget policy', () => {
  it('breaches only above 20% of a budget', () => {
    expect(
      policyBreaches('INC-1', [impact('a', 0.2), impact('b', 0.2001), impact('c', null), impact('d', 3)]),
    ).toEqual([
      { incident: 'INC-1', slo: 'b', shareOfBudget: 0.2001 },
      { incident: 'INC-1', slo: 'd', shareOfBudget: 3 },
    ]);
  });

  it('blocks publishing until a P0 item that is not skipped exists', () => {
    const breaches = policyBreaches('INC-7', [impact('checkout', 0.345)]);
    expect(publishBlockers(breaches, [])).toEqual([
      "INC-7 consumed 34.5% of checkout's error budget (more than 20%): add at least one P0 action item",
    ]);
    expect(publishBlockers(breaches, [item({ priority: 'P1' }), item({ status: 'skipped' })])).toHaveLength(
      1,
    );
    expect(publishBlockers(breaches, [item({ status: 'done' })])).toEqual([]);
    expect(publishBlockers([], [])).toEqual([]);
  });
});

describe('the action-items table', () => {
  it('replaces the placeholder with the items, P0 first', () => {
    const md = withActionItems(`## Action items\n\n${ACTION_ITEMS_PLACEHOLDER}\n`, [
      item({ id: 'b', priority: 'P2', title: 'Later', createdAtMs: 1 }),
      item({
        id: 'a',
        title: 'First',
        owner: 'sre',
        dueDate: '2026-12-01',
        ticketUrl: 'https://t.example/1',
      }),
    ]);
    expect(md).toContain('| First | prevent | P0 | sre | 2026-12-01 | open | <https://t.example/1> |');
    expect(md.indexOf('First')).toBeLessThan(md.indexOf('Later'));
    expect(withActionItems(ACTION_ITEMS_PLACEHOLDER, [])).toBe('_No action items yet._');
  });

  it('keeps one table row per item whatever people write in the cells', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            title: fc.string({ minLength: 1 }),
            owner: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
            category: fc.constantFrom(...ACTION_ITEM_CATEGORIES),
            priority: fc.constantFrom(...ACTION_ITEM_PRIORITIES),
            status: fc.constantFrom(...ACTION_ITEM_STATUSES),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (fields) => {
          const items = fields.map((f, i) => item({ ...f, id: String(i), createdAtMs: i }));
          const html = renderMarkdown(actionItemsTable(items));
          expect(html.match(/<tr>/g)).toHaveLength(items.length + 1);
          expect(html).not.toMatch(/<script|\son\w+=/i);
        },
      ),
    );
  });
});
