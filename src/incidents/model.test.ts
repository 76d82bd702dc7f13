import { describe, expect, it } from 'vitest';
import {
  canMove,
  MILESTONES,
  milestoneOf,
  milestoneProblems,
  parseReference,
  reference,
  STATUSES,
} from './model.js';

describe('incident statuses', () => {
  it('move freely while open, resolve or cancel, and end at closed or cancelled', () => {
    expect(canMove('triage', 'investigating')).toBe(true);
    expect(canMove('monitoring', 'investigating')).toBe(true);
    expect(canMove('investigating', 'resolved')).toBe(true);
    expect(canMove('investigating', 'cancelled')).toBe(true);
    expect(canMove('investigating', 'closed')).toBe(false);
    expect(canMove('resolved', 'closed')).toBe(true);
    expect(canMove('resolved', 'investigating')).toBe(true);
    expect(canMove('resolved', 'monitoring')).toBe(false);
    for (const to of STATUSES) {
      expect(canMove('closed', to)).toBe(false);
      expect(canMove('cancelled', to)).toBe(false);
    }
  });

  it('stamp the milestone a move implies', () => {
    expect(milestoneOf('identified')).toBe('acknowledgedAt');
    expect(milestoneOf('monitoring')).toBe('mitigatedAt');
    expect(milestoneOf('resolved')).toBe('resolvedAt');
    expect(milestoneOf('closed')).toBeUndefined();
  });
});

describe('milestones', () => {
  it('must be in order: impact started, detected, acknowledged, mitigated, resolved', () => {
    expect(MILESTONES).toEqual([
      'impactStartedAt',
      'detectedAt',
      'acknowledgedAt',
      'mitigatedAt',
      'resolvedAt',
    ]);
    expect(milestoneProblems({ impactStartedAt: 1, detectedAt: 2, mitigatedAt: 5, resolvedAt: 5 })).toEqual(
      [],
    );
    expect(milestoneProblems({ detectedAt: 10, acknowledgedAt: 5 })).toMatchObject([
      { field: 'acknowledgedAt' },
    ]);
    // compared with every earlier milestone that is set, not only the one before
    expect(milestoneProblems({ impactStartedAt: 10, resolvedAt: 5 })).toMatchObject([
      { field: 'resolvedAt' },
    ]);
  });
});

describe('references', () => {
  it('read INC-42, inc-42 and 42; nothing else', () => {
    expect(reference(42)).toBe('INC-42');
    expect(['INC-42', 'inc-42', '42', ' INC-7 '].map(parseReference)).toEqual([42, 42, 42, 7]);
    expect(['INC-', 'INC-4x', 'abc', ''].map(parseReference)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
