import { describe, expect, it } from 'vitest';
import { type AlertmanagerPayload, runbooksOf, severityOf } from './alertmanager.js';
import { DEFAULT_SEVERITIES, type SeverityScale } from './model.js';

const payload = (...severities: Array<string | undefined>): AlertmanagerPayload =>
  ({
    commonLabels: {},
    alerts: severities.map((severity) => ({ labels: severity ? { severity } : {} })),
  }) as unknown as AlertmanagerPayload;

describe('severityOf', () => {
  it('takes the most severe of the group on the default scale', () => {
    expect(severityOf(payload('warning', 'critical'), DEFAULT_SEVERITIES)).toBe('SEV2');
    expect(severityOf(payload('info'), DEFAULT_SEVERITIES)).toBe('SEV4');
    expect(severityOf(payload('Warning', 'info'), DEFAULT_SEVERITIES)).toBe('SEV3');
    expect(severityOf(payload(undefined, 'whatever'), DEFAULT_SEVERITIES)).toBe('SEV3');
  });

  it('follows a configured scale by rank, not by name', () => {
    const scale: SeverityScale = { names: ['critical', 'major', 'minor'], page: 'critical', ticket: 'major' };
    expect(severityOf(payload('info', 'page'), scale)).toBe('critical');
    expect(severityOf(payload('info', 'error'), scale)).toBe('major');
    expect(severityOf(payload('info'), scale)).toBe('minor');
  });
});

describe('runbooksOf', () => {
  const group = (common: Record<string, string>, ...alerts: Array<Record<string, string>>) =>
    ({
      commonAnnotations: common,
      alerts: alerts.map((annotations) => ({ annotations })),
    }) as unknown as AlertmanagerPayload;

  it('keeps the http(s) runbook links once each, common ones first', () => {
    expect(
      runbooksOf(
        group(
          { runbook_url: 'https://wiki.example.com/a' },
          { runbook_url: 'https://wiki.example.com/a' },
          { runbook: 'http://wiki.example.com/b' },
        ),
      ),
    ).toEqual(['https://wiki.example.com/a', 'http://wiki.example.com/b']);
  });

  it('drops links that are not http(s), so no script URL becomes a link', () => {
    expect(
      runbooksOf(
        group(
          { runbook_url: 'javascript:alert(1)' },
          { runbook: 'data:text/html,x' },
          { runbook: 'see wiki' },
        ),
      ),
    ).toEqual([]);
  });
});
