/** Shinrai's own Prometheus metrics, served at /metrics. One registry per process. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ShinraiMetrics {
  readonly registry: Registry;
  readonly ingestedEvents: Counter<'sli'>;
  readonly ingestBatches: Counter<'outcome'>;
  readonly ingestBatchSeconds: Histogram;
  readonly evaluationSeconds: Histogram;
  readonly evaluations: Counter<'outcome'>;
  readonly sloEvaluationErrors: Counter<'slo'>;
  readonly slosFailing: Gauge;
  readonly leader: Gauge;
  /** Sharded evaluation: shards this replica holds, and leases it took over (free or expired). */
  readonly shardsOwned: Gauge;
  readonly shardTakeovers: Counter;
  readonly slos: Gauge;
  readonly specReloads: Counter<'outcome'>;
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly rateLimited: Counter<'limit'>;
  readonly sourceQueries: Counter<'type' | 'source' | 'outcome'>;
  readonly sourceQuerySeconds: Histogram<'type' | 'source'>;
  readonly sourceUp: Gauge<'type' | 'source'>;
  readonly sourceMinutes: Counter<'type' | 'source'>;
  readonly notifications: Counter<'target' | 'outcome'>;
  readonly egressRefused: Counter<'client'>;
  /** OTLP receiver: data points by outcome (accepted, duplicate, rejected). */
  readonly otlpPoints: Counter<'outcome'>;
  readonly otlpExports: Counter<'outcome'>;
  /** Requests from Slack (commands, interactions, events) by outcome: ok, duplicate, unauthorized, error. */
  readonly slackRequests: Counter<'kind' | 'outcome'>;
  /** Calls to Slack's Web API by method and outcome: ok, rate_limited, error. */
  readonly slackApiCalls: Counter<'method' | 'outcome'>;
  /** Deployments recorded (and later status changes) by service, environment and status. */
  readonly deployments: Counter<'service' | 'environment' | 'status'>;
  /** Production deployments found failed: rolled back, or confirmed as an incident's cause. */
  readonly deploymentFailures: Counter<'service' | 'reason'>;
  /** Delivery webhook requests by sender (github, gitlab, webhook) and outcome. */
  readonly deliveryWebhooks: Counter<'sender' | 'outcome'>;
  /** Mail send attempts by kind (status-confirm, status-notice…) and outcome (sent, failed, gave-up). */
  readonly mails: Counter<'kind' | 'outcome'>;
  /** Rows the retention task deleted (or thinned out of slo_history), by table. */
  readonly retentionDeleted: Counter<'table'>;
  readonly retentionPartitionsDropped: Counter<'table'>;
}

export function createMetrics(): ShinraiMetrics {
  const registry = new Registry();
  return {
    registry,
    ingestedEvents: new Counter({
      name: 'shinrai_ingested_events_total',
      help: 'SLI data items (count lines or raw events) accepted by ingestion',
      labelNames: ['sli'],
      registers: [registry],
    }),
    ingestBatches: new Counter({
      name: 'shinrai_ingest_batches_total',
      help: 'Ingestion batches by outcome (accepted, duplicate, rejected)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    ingestBatchSeconds: new Histogram({
      name: 'shinrai_ingest_batch_duration_seconds',
      help: 'Time to validate and commit one ingestion batch',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    evaluationSeconds: new Histogram({
      name: 'shinrai_evaluation_duration_seconds',
      help: 'Time of one evaluation cycle over all SLOs',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    evaluations: new Counter({
      name: 'shinrai_evaluations_total',
      help: 'Evaluation cycles by outcome (ok, error)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    sloEvaluationErrors: new Counter({
      name: 'shinrai_slo_evaluation_errors_total',
      help: 'Evaluations of one SLO that failed on their own (the SLO is marked error; the others go on)',
      labelNames: ['slo'],
      registers: [registry],
    }),
    slosFailing: new Gauge({
      name: 'shinrai_slos_failing',
      help: 'SLOs whose last evaluation failed (leader only)',
      registers: [registry],
    }),
    shardsOwned: new Gauge({
      name: 'shinrai_evaluator_shards_owned',
      help: 'Evaluation shards this replica holds a lease on (sharded evaluation, PostgreSQL)',
      registers: [registry],
    }),
    shardTakeovers: new Counter({
      name: 'shinrai_evaluator_shard_takeovers_total',
      help: 'Shard leases this replica took (free, released or expired ones)',
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'shinrai_leader',
      help: '1 when this replica is the evaluator (leader), 0 otherwise',
      registers: [registry],
    }),
    slos: new Gauge({ name: 'shinrai_slos', help: 'SLOs currently loaded', registers: [registry] }),
    specReloads: new Counter({
      name: 'shinrai_spec_reloads_total',
      help: 'Spec reloads by outcome (ok, with-errors)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'shinrai_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'shinrai_rate_limited_total',
      help: 'Requests refused with 429 by limit (failed_auth, anonymous, expensive)',
      labelNames: ['limit'],
      registers: [registry],
    }),
    sourceQueries: new Counter({
      name: 'shinrai_source_queries_total',
      help: 'Queries to pulled data sources (type: prometheus, loki, datadog…; source: the DataSource) by outcome (ok, unreachable, tls, timeout, unavailable, rate_limited, bad_query, unauthorized, bad_response, egress); retries count each attempt',
      labelNames: ['type', 'source', 'outcome'],
      registers: [registry],
    }),
    sourceQuerySeconds: new Histogram({
      name: 'shinrai_source_query_duration_seconds',
      help: 'Time of one query to a pulled data source',
      labelNames: ['type', 'source'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    sourceUp: new Gauge({
      name: 'shinrai_source_up',
      help: '1 when the last pull from a data source worked, 0 while it fails (statuses show no data)',
      labelNames: ['type', 'source'],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'shinrai_notifications_total',
      help: 'Notification delivery attempts by target and outcome (delivered, failed, gave-up)',
      labelNames: ['target', 'outcome'],
      registers: [registry],
    }),
    egressRefused: new Counter({
      name: 'shinrai_egress_refused_total',
      help: 'Outbound connections refused by the egress policy (egress.allow; link-local and metadata addresses), by client (prometheus, notifications, llm)',
      labelNames: ['client'],
      registers: [registry],
    }),
    sourceMinutes: new Counter({
      name: 'shinrai_source_pulled_minutes_total',
      help: 'Per-minute SLI buckets read from pulled data sources and stored',
      labelNames: ['type', 'source'],
      registers: [registry],
    }),
    otlpPoints: new Counter({
      name: 'shinrai_otlp_data_points_total',
      help: 'OTLP data points received, by outcome: accepted, duplicate (already counted) or rejected (maps to no SLI, or invalid)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    otlpExports: new Counter({
      name: 'shinrai_otlp_exports_total',
      help: 'OTLP export requests, by outcome: ok, partial, invalid, unavailable',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    slackRequests: new Counter({
      name: 'shinrai_slack_requests_total',
      help: 'Requests from Slack by kind (commands, interactions, events) and outcome (ok, duplicate, unauthorized, error)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    slackApiCalls: new Counter({
      name: 'shinrai_slack_api_calls_total',
      help: 'Calls to the Slack Web API by method and outcome (ok, rate_limited, error)',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
    deployments: new Counter({
      name: 'shinrai_deployments_total',
      help: 'Deployments recorded, and status changes of recorded ones, by service, environment and status (success, failure, rolled_back)',
      labelNames: ['service', 'environment', 'status'],
      registers: [registry],
    }),
    deploymentFailures: new Counter({
      name: 'shinrai_deployment_failures_total',
      help: 'Production deployments found failed, by service and reason (rolled_back, incident)',
      labelNames: ['service', 'reason'],
      registers: [registry],
    }),
    deliveryWebhooks: new Counter({
      name: 'shinrai_delivery_webhooks_total',
      help: 'Delivery webhook requests by sender (github, gitlab, webhook) and outcome (recorded, duplicate, ignored, unauthorized, invalid)',
      labelNames: ['sender', 'outcome'],
      registers: [registry],
    }),
    mails: new Counter({
      name: 'shinrai_mails_total',
      help: 'Mail send attempts by kind (status-confirm, status-notice) and outcome (sent, failed, gave-up)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    retentionDeleted: new Counter({
      name: 'shinrai_retention_deleted_total',
      help: 'Rows deleted by the retention task (expired, or thinned out of slo_history), by table',
      labelNames: ['table'],
      registers: [registry],
    }),
    retentionPartitionsDropped: new Counter({
      name: 'shinrai_retention_partitions_dropped_total',
      help: 'Week partitions the retention task dropped whole (PostgreSQL sli_minutes; their rows also count in shinrai_retention_deleted_total)',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
}
