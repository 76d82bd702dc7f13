/**
 * Builders for the risk records unit tests start from: the published worked row (ETTD 5 min,
 * ETTR 30 min, 100% of users, every 30 days) and a "no runbook: +30 min ETTR" factor.
 */
import type { RiskDefinition, RiskFactorDefinition } from '../slo/index.js';

const location = { file: 'risks.yaml', line: 1, column: 1 };

export function testRisk(over: Partial<RiskDefinition> = {}): RiskDefinition {
  return {
    name: 'db-failover-manual',
    labels: {},
    annotations: {},
    location,
    format: 'shinrai/v1',
    service: 'checkout',
    ettdMinutes: 5,
    ettrMinutes: 30,
    impact: 1,
    ettfDays: 30,
    slos: [],
    factors: [],
    status: 'open',
    ...over,
  };
}

export function testRiskFactor(over: Partial<RiskFactorDefinition> = {}): RiskFactorDefinition {
  return {
    name: 'no-runbook',
    labels: {},
    annotations: {},
    location,
    format: 'shinrai/v1',
    addEttdMinutes: 0,
    addEttrMinutes: 30,
    ettfMultiplier: 1,
    ...over,
  };
}
