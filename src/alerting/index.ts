/** The public face of `alerting/` (burn-rate alerts, silences, backtests); other folders import only this file. */

export { addSilence, judgeFiring, listAlerts } from './alert-api.js';
export { type BacktestReport, backtestReport, periodOf, targetSeries } from './backtest-report.js';
export type { AlertChange, StoredAlert } from './evaluate.js';
export { type QualityReport, qualityReport } from './quality-service.js';
export { alertRoutes } from './routes.js';
export { AlertService } from './service.js';
export { readAlerts } from './store.js';
