/** The public face of `alerting/` (burn-rate alerts, silences, backtests); other folders import only this file. */

export { addSilence, getAlert, judgeFiring, listAlerts, listSilences } from './alert-api.js';
export { type BacktestReport, backtestReport, periodOf, targetSeries } from './backtest-report.js';
export type { AlertChange, StoredAlert } from './evaluate.js';
export { type BurnEvent, detectionDelaysMinutes, type Firing } from './quality.js';
export { type QualityReport, qualityInputs, qualityReport, readFirings } from './quality-service.js';
export { alertRoutes } from './routes.js';
export { AlertService } from './service.js';
export { readAlerts } from './store.js';
