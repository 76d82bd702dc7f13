import { describe, expect, it } from 'vitest';
import {
  backlogFile,
  changedByFactors,
  gateBadge,
  gateServices,
  serviceChoices,
  shareWidth,
  sloHref,
  specUpdateFields,
} from './risks';

const override = {
  id: 'o1',
  service: 'checkout',
  reason: 'hotfix for INC-42',
  createdBy: 'alice',
  createdAt: '2026-12-04T10:00:00.000Z',
  expiresAt: '2026-12-04T12:00:00.000Z',
  active: true,
};

describe('gateBadge', () => {
  it('colours allow green, warn amber and deny red', () => {
    expect(gateBadge({ decision: 'allow', policyDecision: 'allow' })).toEqual({
      tone: 'green',
      label: 'allow',
    });
    expect(gateBadge({ decision: 'warn', policyDecision: 'warn' })).toEqual({ tone: 'amber', label: 'warn' });
    expect(gateBadge({ decision: 'deny', policyDecision: 'deny' })).toEqual({ tone: 'red', label: 'deny' });
  });

  it('shows an allow that only an override gives in amber, not green', () => {
    expect(gateBadge({ decision: 'allow', policyDecision: 'deny', override })).toEqual({
      tone: 'amber',
      label: 'override',
    });
  });

  it('ignores an override that is no longer active', () => {
    expect(
      gateBadge({ decision: 'deny', policyDecision: 'deny', override: { ...override, active: false } }),
    ).toEqual({ tone: 'red', label: 'deny' });
  });
});

describe('sloHref', () => {
  it('links an SLO, and an objective of a multi-objective SLO through ?objective=', () => {
    expect(sloHref('checkout-availability')).toBe('/slos/checkout-availability');
    expect(sloHref('checkout-latency/p99')).toBe('/slos/checkout-latency?objective=checkout-latency%2Fp99');
  });
});

describe('changedByFactors', () => {
  it('names the estimates a factor changed', () => {
    const written = { ettdMinutes: 5, ettrMinutes: 30, impact: 1, ettfDays: 365.25 };
    expect([...changedByFactors(written, { ...written, ettrMinutes: 60 })]).toEqual(['ettrMinutes']);
    expect([...changedByFactors(written, { ...written, ettfDays: 182.625, ettdMinutes: 10 })]).toEqual([
      'ettdMinutes',
      'ettfDays',
    ]);
  });

  it('ignores floating-point noise', () => {
    const written = { ettdMinutes: 5, ettrMinutes: 30, impact: 0.3, ettfDays: 60 };
    expect(changedByFactors(written, { ...written, ettfDays: 60 * (1 / 3) * 3 }).size).toBe(0);
  });
});

describe('shareWidth', () => {
  it('clamps to the bar and fills it beyond the whole budget', () => {
    expect(shareWidth(0.25)).toBe(25);
    expect(shareWidth(1.7)).toBe(100);
    expect(shareWidth(Number.POSITIVE_INFINITY)).toBe(100);
    expect(shareWidth(-1)).toBe(0);
    expect(shareWidth(null)).toBe(0);
    expect(shareWidth(Number.NaN)).toBe(0);
  });
});

describe('services', () => {
  const services = [
    { name: 'search', slos: [] },
    { name: 'checkout', slos: [] },
  ];

  it('offers the known services and those risks name, once each, sorted', () => {
    expect(serviceChoices(services, ['payments', 'checkout'])).toEqual(['checkout', 'payments', 'search']);
  });

  it('shows the gate of the chosen service, or of every service', () => {
    expect(gateServices(services, 'checkout')).toEqual(['checkout']);
    expect(gateServices(services, '')).toEqual(['checkout', 'search']);
  });
});

describe('backlogFile', () => {
  it('asks for the format and the service, and names the file after them', () => {
    expect(backlogFile('csv', '')).toEqual({
      path: '/api/v1/backlog?format=csv',
      fileName: 'reliability-backlog.csv',
    });
    expect(backlogFile('markdown', 'check out/ä')).toEqual({
      path: '/api/v1/backlog?format=markdown&service=check+out%2F%C3%A4',
      fileName: 'reliability-backlog-check-out-.md',
    });
  });
});

describe('specUpdateFields', () => {
  it('reads the spec lines calibration offers into a PATCH body', () => {
    expect(specUpdateFields('ettd: 30m\nettr: 45m\nettf: 30d')).toEqual({
      ettd: '30m',
      ettr: '45m',
      ettf: '30d',
    });
    expect(specUpdateFields('')).toEqual({});
    expect(specUpdateFields('  ettr:  1.5h  \nnot a line')).toEqual({ ettr: '1.5h' });
  });
});
