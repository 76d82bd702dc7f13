import { describe, expect, it } from 'vitest';
import { type AlertmanagerPayload, severityOf } from './alertmanager.js';
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
