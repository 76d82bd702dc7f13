import { describe, expect, it } from 'vitest';
import { fill, LANGUAGES, pickLanguage, TEXTS } from './status-page-i18n.js';

function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([key, v]) => keyPaths(v, prefix ? `${prefix}.${key}` : key));
}

describe('status page texts', () => {
  it('has the same keys, all non-empty, in English and Japanese', () => {
    const en = keyPaths(TEXTS.en).sort();
    for (const lang of LANGUAGES) {
      expect(keyPaths(TEXTS[lang]).sort()).toEqual(en);
      for (const path of en) {
        const text = path
          .split('.')
          .reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], TEXTS[lang]);
        expect(typeof text === 'string' && text.trim().length > 0, `${lang}.${path}`).toBe(true);
      }
    }
  });

  it('uses the same placeholders in both languages', () => {
    for (const path of keyPaths(TEXTS.en)) {
      const read = (lang: 'en' | 'ja') =>
        String(path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], TEXTS[lang]));
      const holes = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(holes(read('ja')), path).toEqual(holes(read('en')));
    }
    expect(fill('{value} over {days} days', { value: '99%', days: 90 })).toBe('99% over 90 days');
  });

  it('picks ?lang first, then Accept-Language by q, then English', () => {
    expect(pickLanguage('ja', 'en')).toBe('ja');
    expect(pickLanguage('fr', 'ja-JP,ja;q=0.9,en;q=0.8')).toBe('ja');
    expect(pickLanguage(undefined, 'fr-CA, en;q=0.5, ja;q=0.7')).toBe('ja');
    expect(pickLanguage(undefined, 'ja;q=0, en-GB')).toBe('en');
    expect(pickLanguage(undefined, 'de')).toBe('en');
    expect(pickLanguage(undefined, undefined)).toBe('en');
  });
});
