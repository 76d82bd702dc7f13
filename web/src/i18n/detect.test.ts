import { describe, expect, it } from 'vitest';
import { detectLanguage } from './index';

describe('language detection', () => {
  it('prefers the stored choice, then the browser, then English', () => {
    expect(detectLanguage('ja', ['en-US'])).toBe('ja');
    expect(detectLanguage(null, ['ja-JP', 'en'])).toBe('ja');
    expect(detectLanguage(null, ['fr-FR', 'en-GB'])).toBe('en');
    expect(detectLanguage(null, ['de'])).toBe('en');
    expect(detectLanguage('xx', [])).toBe('en');
  });
});
