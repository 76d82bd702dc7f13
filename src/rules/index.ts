/** The public face of `rules/` (Prometheus rule generation); other folders import only this file. */
export { generateRules } from './generate.js';
export {
  kubernetesName,
  RULES_FORMATS,
  type RulesFormat,
  renderPrometheusRule,
  renderRuleFile,
} from './render.js';
export { CLASSIC_LABEL_NAME, DEFAULT_PERIOD_MS, RESERVED_LABELS } from './rule-slos.js';
