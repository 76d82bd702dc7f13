/** A minimal valid OpenSLO v1 ratio SLO with an inline SLI `<name>-requests` (or `sli`), for tests. */
export function ratioSloYaml(
  name: string,
  options: {
    service?: string;
    target?: string | number;
    window?: string;
    sli?: string;
    annotations?: Record<string, string>;
  } = {},
): string {
  // JSON strings are valid YAML double-quoted scalars, so multi-line annotations stay intact.
  const annotations = options.annotations ? `, annotations: ${JSON.stringify(options.annotations)}` : '';
  return `apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}${annotations}}
spec:
  service: ${options.service ?? 'svc'}
  indicator:
    metadata: {name: ${options.sli ?? `${name}-requests`}}
    spec:
      ratioMetric:
        good: {metricSource: {type: shinrai, spec: {}}}
        total: {metricSource: {type: shinrai, spec: {}}}
  timeWindow: [{duration: ${options.window ?? '7d'}, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: ${options.target ?? '0.99'}}]
`;
}

/**
 * An OpenSLO v1 ratio SLO whose counter SLI is read from a Prometheus DataSource (declared with it
 * when `url` is given), for the Prometheus tests.
 */
export function prometheusSloYaml(
  name: string,
  options: {
    source: string;
    url?: string;
    /** Extra connectionDetails entries, as YAML flow text (e.g. `tlsCaFile: '/ca.pem'`). */
    connection?: string;
    sli: string;
    good: string;
    total: string;
    window?: string;
    target?: number;
  },
): string {
  const dataSource =
    options.url === undefined
      ? ''
      : `apiVersion: openslo/v1
kind: DataSource
metadata: { name: ${options.source} }
spec:
  type: Prometheus
  connectionDetails: { url: '${options.url}'${options.connection ? `, ${options.connection}` : ''} }
---
`;
  const source = (query: string) =>
    `{ metricSource: { metricSourceRef: ${options.source}, spec: { query: '${query}' } } }`;
  return `${dataSource}apiVersion: openslo/v1
kind: SLO
metadata: { name: ${name} }
spec:
  service: shop
  budgetingMethod: Occurrences
  timeWindow: [{ duration: ${options.window ?? '30d'}, isRolling: true }]
  indicator:
    metadata: { name: ${options.sli} }
    spec:
      ratioMetric:
        counter: true
        good: ${source(options.good)}
        total: ${source(options.total)}
  objectives: [{ target: ${options.target ?? 0.999} }]
`;
}
