/**
 * The languages incident write-ups (catch-up summary, postmortem draft) come in, and how each
 * shows times, durations and counts (pure). English keeps ISO 8601 UTC times, unambiguous for
 * readers anywhere; Japanese shows them in the team's time zone with its abbreviation (Luxon), and
 * durations and counts through Intl.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';

export const WRITE_UP_LANGUAGES = ['en', 'ja'] as const;
export type WriteUpLanguage = (typeof WRITE_UP_LANGUAGES)[number];

/** `?lang=en|ja` on the routes that write up an incident; English when not given. */
export const writeUpLanguageQuery = z
  .enum(WRITE_UP_LANGUAGES)
  .default('en')
  .describe('language of the text: en or ja (times in Japanese are shown in incidents.timeZone)');

export interface WriteUpOptions {
  readonly language?: WriteUpLanguage | undefined;
  /** IANA zone for Japanese times (`incidents.timeZone`); UTC when not given. */
  readonly timeZone?: string | undefined;
}

export interface WriteUpFormat {
  readonly language: WriteUpLanguage;
  /** A moment; `—` when unknown. */
  time(ms: number | undefined): string;
  /** A whole number of minutes, in the largest units that fit (`1 時間 5 分`). */
  duration(minutes: number): string;
  /** A rounded count with the language's grouping. */
  count(value: number): string;
  /** A share as a percentage with one decimal (0.174 → `17.4%`). */
  percent(share: number): string;
  /** Joins items of a list. */
  list(items: readonly string[]): string;
}

const MINUTES_PER_HOUR = 60;
const MINUTES_PER_DAY = 24 * MINUTES_PER_HOUR;

export function writeUpFormat(options: WriteUpOptions = {}): WriteUpFormat {
  const language = options.language ?? 'en';
  const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
  if (language === 'en')
    return {
      language,
      time: (ms) => (ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z')),
      duration: (minutes) => `${Math.round(minutes)} min`,
      count: (value) => String(Math.round(value)),
      percent,
      list: (items) => items.join(', '),
    };
  const zone = options.timeZone ?? 'UTC';
  const numbers = new Intl.NumberFormat('ja-JP');
  const unit = (name: 'day' | 'hour' | 'minute') =>
    new Intl.NumberFormat('ja-JP', { style: 'unit', unit: name, unitDisplay: 'short' });
  const units = { day: unit('day'), hour: unit('hour'), minute: unit('minute') };
  return {
    language,
    time: (ms) =>
      ms === undefined
        ? '—'
        : DateTime.fromMillis(ms, { zone }).setLocale('ja-JP').toFormat('yyyy/MM/dd HH:mm ZZZZ'),
    duration: (minutes) => {
      const total = Math.round(minutes);
      const sign = total < 0 ? '-' : '';
      const abs = Math.abs(total);
      const days = Math.floor(abs / MINUTES_PER_DAY);
      const hours = Math.floor((abs % MINUTES_PER_DAY) / MINUTES_PER_HOUR);
      const rest = abs % MINUTES_PER_HOUR;
      // Two units are enough to read at a glance: days and hours, or hours and minutes.
      const parts = days
        ? [units.day.format(days), hours ? units.hour.format(hours) : '']
        : hours
          ? [units.hour.format(hours), rest ? units.minute.format(rest) : '']
          : [units.minute.format(rest)];
      return sign + parts.filter(Boolean).join(' ');
    },
    count: (value) => numbers.format(Math.round(value)),
    percent,
    list: (items) => items.join('、'),
  };
}
