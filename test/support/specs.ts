/** A minimal valid OpenSLO v1 ratio SLO with an inline SLI `<name>-requests` (or `sli`), for tests. */
export function ratioSloYaml(
  name: string,
  options: { service?: string; target?: string | number; window?: string; sli?: string } = {},
): string {
  return `apiVersion: openslo/v1
kind: SLO
metadata: {name: ${name}}
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
