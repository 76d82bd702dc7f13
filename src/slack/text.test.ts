import { describe, expect, it } from 'vitest';
import { escapeSlack, languageOf, parseSlashCommand, SLACK_TEXT } from './text.js';

const SEVERITIES = ['SEV1', 'SEV2', 'SEV3'];

describe('parseSlashCommand', () => {
  it('reads every sub-command and its arguments', () => {
    expect(parseSlashCommand('', SEVERITIES)).toEqual({ kind: 'help' });
    expect(parseSlashCommand('declare  Checkout is down ', SEVERITIES)).toEqual({
      kind: 'declare',
      title: 'Checkout is down',
    });
    expect(parseSlashCommand('ic <@U0ALICE|alice>', SEVERITIES)).toEqual({ kind: 'ic', user: 'U0ALICE' });
    expect(parseSlashCommand('severity sev1', SEVERITIES)).toEqual({ kind: 'severity', severity: 'SEV1' });
    expect(parseSlashCommand('NOTE rolled back 1.2.3', SEVERITIES)).toEqual({
      kind: 'note',
      text: 'rolled back 1.2.3',
    });
    expect(parseSlashCommand('budget checkout', SEVERITIES)).toEqual({ kind: 'budget', service: 'checkout' });
  });

  it('answers bad arguments and unknown sub-commands with a usage, never a throw', () => {
    expect(parseSlashCommand('severity SEV9', SEVERITIES)).toMatchObject({
      kind: 'usage',
      problem: 'severity',
    });
    expect(parseSlashCommand('ic alice', SEVERITIES)).toMatchObject({ kind: 'usage', problem: 'ic' });
    expect(parseSlashCommand('note', SEVERITIES)).toMatchObject({ kind: 'usage', problem: 'note' });
    expect(parseSlashCommand('frobnicate now', SEVERITIES)).toEqual({
      kind: 'usage',
      problem: 'unknown',
      sub: 'frobnicate',
    });
  });
});

describe('languageOf', () => {
  it('is Japanese for ja locales and English otherwise', () => {
    expect(languageOf('ja-JP')).toBe('ja');
    expect(languageOf('ja')).toBe('ja');
    expect(languageOf('en-US')).toBe('en');
    expect(languageOf('jam')).toBe('en');
    expect(languageOf(undefined)).toBe('en');
  });

  it('has Japanese help that is not the English one', () => {
    expect(SLACK_TEXT.ja.help).not.toBe(SLACK_TEXT.en.help);
    expect(SLACK_TEXT.ja.help).toMatch(/インシデント/);
  });
});

describe('escapeSlack', () => {
  it('escapes Slack markup characters', () => {
    expect(escapeSlack('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });
});
