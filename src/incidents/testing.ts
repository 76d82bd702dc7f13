/** Helpers for the incidents unit tests: an action-item builder, and a check for English left in Japanese text. */
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

/** Words the Japanese write-ups keep in Latin letters: references, severities, SLO, zones, priorities. */
const LATIN_KEPT = /^(INC|SEV\d*|SLO|JST|UTC|GMT|P[0-2])$/;

/**
 * Latin-letter words (3+ letters) left in a Japanese text once people's text (`written`: titles,
 * names, SLO ids) is removed: any is an English template string that was not translated.
 */
export function englishLeftIn(text: string, written: readonly string[]): string[] {
  let rest = text;
  for (const w of [...written].sort((a, b) => b.length - a.length)) rest = rest.split(w).join(' ');
  return (rest.match(/[A-Za-z]{3,}/g) ?? []).filter((word) => !LATIN_KEPT.test(word));
}
