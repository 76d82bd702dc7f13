import { describe, expect, it } from 'vitest';
import { detectLanguage, writeUpLanguage } from './index';

describe('language detection', () => {
  it('prefers the stored choice, then the browser, then English', () => {
    expect(detectLanguage('ja', ['en-US'])).toBe('ja');
    expect(detectLanguage(null, ['ja-JP', 'en'])).toBe('ja');
    expect(detectLanguage(null, ['fr-FR', 'en-GB'])).toBe('en');
    expect(detectLanguage(null, ['de'])).toBe('en');
    expect(detectLanguage('xx', [])).toBe('en');
  });
});

describe('writeUpLanguage', () => {
  it('asks the API for Japanese text when the page is in Japanese, else English', () => {
    expect(writeUpLanguage('ja')).toBe('ja');
    expect(writeUpLanguage('ja-JP')).toBe('ja');
    expect(writeUpLanguage('en')).toBe('en');
    expect(writeUpLanguage(undefined)).toBe('en');
  });
});
