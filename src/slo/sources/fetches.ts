/**
 * The range queries of one wave of a pull cycle, shared (no database): each (source, query, range)
 * is asked once however many SLIs read it; queries a source answers together (port.ts QueryGroup:
 * Prometheus' `sum by (job)`) are asked as one; and an answer is dropped as soon as the last SLI
 * reading it has used it, so a first load holds a few answers at a time, not the whole period.
 */
import {
  MINUTE_MS,
  type MinuteRange,
  type MinuteSeries,
  type QueryGroup,
  type SliSource,
  SourceQueryError,
} from './port.js';

/** One SLI chunk's need: a query of a source over a range. */
export interface FetchNeed {
  readonly source: string;
  readonly reader: SliSource;
  readonly query: string;
  readonly range: MinuteRange;
}

/** Asks a source one range query (with the loop's retries). */
export type Ask = (need: FetchNeed) => Promise<MinuteSeries[]>;

/**
 * Points one grouped query may return (members × minutes): a few tens of MB of JSON. A first-load
 * chunk of 10,000 minutes groups 50 members; a pull of a few new minutes, up to MAX_MEMBERS.
 */
export const MAX_GROUP_POINTS = 500_000;
/** Members of one grouped query at most, so its text stays a few kilobytes. */
export const MAX_MEMBERS = 500;

interface Single {
  readonly kind: 'single';
  readonly need: FetchNeed;
  refs: number;
  answer?: Promise<MinuteSeries[]> | undefined;
}

interface Grouped {
  readonly kind: 'group';
  readonly need: FetchNeed;
  readonly group: QueryGroup;
  refs: number;
  answer?: Promise<Map<string, MinuteSeries[]>> | undefined;
  /** Members asked alone after the group query was refused (it may exceed a limit the members don't). */
  alone?: Map<string, Promise<MinuteSeries[]>>;
}

const keyOf = (source: string, query: string, range: MinuteRange) =>
  `${range.fromMs}\u0000${range.toMs}\u0000${source}\u0000${query}`;

export class SharedFetches {
  private readonly units = new Map<string, { unit: Single | Grouped; value?: string }>();
  private readonly order = new Map<Single | Grouped, number>();
  /** Range queries asked (each group once, each retry not counted). */
  asked = 0;

  /** Plans the wave's queries from every need (one per SLI chunk and role, duplicates included). */
  constructor(
    needs: readonly FetchNeed[],
    private readonly ask: Ask,
  ) {
    const distinct = new Map<string, { need: FetchNeed; refs: number }>();
    for (const need of needs) {
      const key = keyOf(need.source, need.query, need.range);
      const seen = distinct.get(key);
      if (seen) seen.refs++;
      else distinct.set(key, { need, refs: 1 });
    }
    // Per source, reader and range: the queries its reader can answer together.
    const families = new Map<string, Array<{ key: string; need: FetchNeed; refs: number }>>();
    for (const [key, entry] of distinct) {
      const family = `${entry.need.range.fromMs}\u0000${entry.need.range.toMs}\u0000${entry.need.source}`;
      const list = families.get(family) ?? [];
      list.push({ key, ...entry });
      families.set(family, list);
    }
    for (const list of families.values()) {
      const { reader, range, source } = list[0]!.need;
      const minutes = Math.max(1, (range.toMs - range.fromMs) / MINUTE_MS);
      const maxMembers = Math.min(MAX_MEMBERS, Math.floor(MAX_GROUP_POINTS / minutes));
      const groups =
        reader.groupQueries && maxMembers >= 2 && list.length >= 2
          ? reader.groupQueries(
              list.map((e) => e.need.query),
              maxMembers,
            )
          : [];
      const byQuery = new Map(list.map((e) => [e.need.query, e]));
      for (const group of groups) {
        const unit: Grouped = {
          kind: 'group',
          need: { source, reader, query: group.query, range },
          group,
          refs: 0,
        };
        for (const [member, value] of group.members) {
          const entry = byQuery.get(member);
          if (!entry || this.units.has(entry.key)) continue;
          unit.refs += entry.refs;
          this.units.set(entry.key, { unit, value });
        }
      }
      for (const entry of list)
        if (!this.units.has(entry.key))
          this.units.set(entry.key, { unit: { kind: 'single', need: entry.need, refs: entry.refs } });
    }
    for (const need of needs) {
      const { unit } = this.units.get(keyOf(need.source, need.query, need.range))!;
      if (!this.order.has(unit)) this.order.set(unit, this.order.size);
    }
  }

  /**
   * Where a need's answer comes in the wave: the position of the (grouped or single) query that
   * answers it, in the order needs were given. SLIs sorted by it read shared answers one after
   * another, so each is dropped soon, and otherwise keep their order.
   */
  orderOf(need: FetchNeed): number {
    const entry = this.units.get(keyOf(need.source, need.query, need.range));
    return entry ? this.order.get(entry.unit)! : Number.POSITIVE_INFINITY;
  }

  /** The answer to a need; the first caller asks, the others share it. Throws SourceQueryError. */
  async answer(need: FetchNeed): Promise<MinuteSeries[]> {
    const entry = this.units.get(keyOf(need.source, need.query, need.range));
    if (!entry) throw new Error(`no planned query for ${need.query}`);
    const { unit, value } = entry;
    if (unit.kind === 'single') {
      unit.answer ??= this.asking(unit.need);
      return unit.answer;
    }
    unit.answer ??= this.asking(unit.need).then((series) => split(series, unit.group.label));
    try {
      return (await unit.answer).get(value!) ?? [];
    } catch (error) {
      // A grouped query refused (a sample limit, a proxy's query size): each member alone.
      if (!(error instanceof SourceQueryError) || error.retryable) throw error;
      unit.alone ??= new Map();
      let alone = unit.alone.get(need.query);
      if (!alone) {
        alone = this.asking(need);
        unit.alone.set(need.query, alone);
      }
      return alone;
    }
  }

  /** One reader of a need is done with it: the last one drops the answer. */
  release(need: FetchNeed): void {
    const entry = this.units.get(keyOf(need.source, need.query, need.range));
    if (!entry) return;
    entry.unit.refs--;
    if (entry.unit.refs <= 0) {
      entry.unit.answer = undefined;
      if (entry.unit.kind === 'group') entry.unit.alone = undefined;
    }
  }

  private asking(need: FetchNeed): Promise<MinuteSeries[]> {
    this.asked++;
    const answer = this.ask(need);
    // Callers may not await every answer (a cycle stopping); an unobserved rejection is not a crash.
    answer.catch(() => {});
    return answer;
  }
}

/** A grouped answer's series by the value of the label that tells the members apart. */
function split(series: readonly MinuteSeries[], label: string): Map<string, MinuteSeries[]> {
  const byValue = new Map<string, MinuteSeries[]>();
  for (const s of series) {
    const value = s.labels[label];
    if (value === undefined) continue;
    // The member's own query (a plain sum) labels its one series with nothing.
    const list = byValue.get(value) ?? [];
    list.push({ labels: {}, points: s.points });
    byValue.set(value, list);
  }
  return byValue;
}
