/**
 * Checks an Adaptive Card with Microsoft's own `adaptivecards` library (the renderer Teams' web
 * client is built on): what its parser reports, what its validation reports, whatever the parser
 * drops (an unknown property, an invalid value) — a card must come back from parse → toJSON
 * unchanged — and the properties the published card schema requires that the library tolerates
 * missing (a TextBlock's text, a Fact's title and value). An empty list means the card is valid.
 */
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type * as AdaptiveCards from 'adaptivecards';

// The package's ESM build imports files without extensions, which Node cannot load; its UMD bundle
// is the same library in one file.
const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as typeof AdaptiveCards;

/** Properties the Adaptive Card schema (1.5) requires, per element type, that the parser does not enforce. */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  TextBlock: ['text'],
  FactSet: ['facts'],
  Container: ['items'],
  ActionSet: ['actions'],
  Image: ['url'],
};

export function adaptiveCardProblems(card: unknown): string[] {
  const problems: string[] = [];
  const context = new AC.SerializationContext();
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of parsed.validateProperties().validationEvents)
    problems.push(`validation: ${event.message}`);
  const roundTrip = parsed.toJSON();
  if (!isDeepStrictEqual(roundTrip, card))
    problems.push(
      `the parser dropped or changed: ${differences(card, roundTrip, '$').join(', ') || 'something'}`,
    );
  problems.push(...missingRequired(card, '$'));
  return problems;
}

/** Problems of a Teams webhook message: its envelope, then its one card. */
export function teamsMessageProblems(message: unknown): string[] {
  const m = message as { type?: unknown; attachments?: unknown };
  if (m?.type !== 'message') return ['envelope: type must be "message"'];
  if (!Array.isArray(m.attachments) || m.attachments.length !== 1)
    return ['envelope: attachments must hold exactly one card'];
  const [attachment] = m.attachments as Array<{ contentType?: unknown; content?: unknown }>;
  if (attachment?.contentType !== 'application/vnd.microsoft.card.adaptive')
    return ['envelope: contentType must be application/vnd.microsoft.card.adaptive'];
  return adaptiveCardProblems(attachment.content);
}

function differences(expected: unknown, actual: unknown, path: string): string[] {
  if (isDeepStrictEqual(expected, actual)) return [];
  if (
    typeof expected !== 'object' ||
    typeof actual !== 'object' ||
    expected === null ||
    actual === null ||
    Array.isArray(expected) !== Array.isArray(actual)
  )
    return [path];
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
  return [...keys].flatMap((key) => differences(e[key], a[key], `${path}.${key}`));
}

function missingRequired(node: unknown, path: string): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => missingRequired(item, `${path}[${i}]`));
  if (typeof node !== 'object' || node === null) return [];
  const record = node as Record<string, unknown>;
  const found: string[] = [];
  const required = typeof record.type === 'string' ? REQUIRED[record.type] : undefined;
  for (const key of required ?? [])
    if (record[key] === undefined || record[key] === '')
      found.push(`schema: ${path} (${String(record.type)}) needs ${key}`);
  if (record.type === 'FactSet' && Array.isArray(record.facts))
    record.facts.forEach((fact: unknown, i: number) => {
      const f = fact as Record<string, unknown>;
      for (const key of ['title', 'value'])
        if (typeof f?.[key] !== 'string') found.push(`schema: ${path}.facts[${i}] needs ${key} (a string)`);
    });
  for (const [key, value] of Object.entries(record))
    if (typeof value === 'object') found.push(...missingRequired(value, `${path}.${key}`));
  return found;
}
