import { describe, expect, it } from 'vitest';
import { servicesBySli } from './sli-routing.js';
import { loadSpecText } from './spec/load.js';

const slo = (name: string, service: string, sli: string) => `apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}}
spec:
  service: ${service}
  indicator:
    metadata: {name: ${sli}}
    spec: {ratioMetric: {counter: true, good: {metricSource: {type: shinrai, spec: {}}}, total: {metricSource: {type: shinrai, spec: {}}}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
`;

describe('servicesBySli', () => {
  const { catalog } = loadSpecText(
    'shared.yaml',
    [
      slo('checkout-availability', 'checkout', 'requests'),
      slo('search-availability', 'search', 'requests'),
      slo('login-availability', 'login', 'logins'),
    ].join('---\n'),
  );

  it('gives the services of every SLO reading an SLI, and an SLO id its own service', () => {
    const byName = servicesBySli(catalog);
    expect(byName.get('requests')).toEqual(['checkout', 'search']);
    expect(byName.get('logins')).toEqual(['login']);
    expect(byName.get('search-availability')).toEqual(['search']);
    expect(byName.get('nothing')).toBeUndefined();
  });

  it('is built once per catalog object', () => {
    expect(servicesBySli(catalog)).toBe(servicesBySli(catalog));
  });
});
