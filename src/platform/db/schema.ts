/**
 * The database schema as Kysely types. Times are epoch milliseconds (bigint) so both dialects
 * store and compare them the same way.
 */
import type { Generated } from 'kysely';
/** Per-minute SLI counts: storage grows with minutes × SLIs, not with events. */
export interface SliMinuteTable {
  sli: string;
  minute_ts: number;
  good: number;
  total: number;
  /** When the row last changed (database clock on PostgreSQL), for the evaluator's change feed. */
  updated_at: number;
}

/** Sums of one SLI's valid minutes in one UTC hour (slo/hour-sums.ts keeps them exact). */
export interface SliHourTable {
  sli: string;
  /** The hour's first millisecond (UTC). */
  hour_ts: number;
  good: number;
  /** Σ(total − good), as the engine sums what a minute consumed. */
  bad: number;
  total: number;
  /** Minutes of the hour with total > 0. */
  data_minutes: number;
}

/** An (sli, hour) whose sums a write to `sli_minutes` made stale; appended by triggers. */
export interface SliDirtyHourTable {
  id: Generated<number>;
  sli: string;
  hour_ts: number;
}

/** One row per accepted ingestion batch: a repeated Idempotency-Key is answered from here. */
export interface IngestBatchTable {
  idempotency_key: string;
  sli: string;
  received_at: number;
  /** The JSON response sent when the batch was first accepted. */
  response: string;
}

export interface SloStatusTable {
  slo_id: string;
  evaluated_at: number;
  /** The status as served by GET /api/v1/slos/{id} (JSON). */
  status: string;
  /** Sharded evaluation: the replica that wrote it, and the epoch of its shard lease then (0025). */
  evaluated_by?: string | null;
  shard_epoch?: number | null;
}

/** Compact history for charts and reports: one row per SLO per step. */
export interface SloHistoryTable {
  slo_id: string;
  ts: number;
  sli: number | null;
  remaining: number | null;
  /** Burn rates per window label (JSON). */
  burn_rates: string;
}

export interface ApiTokenTable {
  id: string;
  name: string;
  role: 'viewer' | 'editor' | 'admin';
  /** SHA-256 of the secret: tokens are never stored in the clear. */
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** JSON list of the teams the token may change (migration 0028); null: every team. */
  teams: string | null;
}

/** A browser session opened by single sign-on (migration 0026); found by the SHA-256 of its cookie. */
export interface AuthSessionTable {
  id_hash: string;
  /** The provider's `sub`. */
  subject: string;
  name: string;
  email: string | null;
  role: 'viewer' | 'editor' | 'admin';
  /** JSON list of team names. */
  teams: string;
  /** The ID token, sent back only as the provider's logout hint. */
  id_token: string | null;
  /** The provider's session id (the ID token's `sid`), which a back-channel logout names (0030). */
  sid: string | null;
  created_at: number;
  last_seen_at: number;
  /** Absolute expiry (epoch ms); idle expiry is last_seen_at + auth.sessions.idleMinutes. */
  expires_at: number;
}

/** A back-channel logout token taken (migration 0030), kept until it would be refused as too old. */
export interface AuthLogoutTokenTable {
  /** SHA-256 of the issuer and the token's `jti`. */
  jti_hash: string;
  expires_at: number;
}

/** A sign-in in flight (migration 0026): deleted when its callback is taken, or 10 minutes on. */
export interface AuthLoginTable {
  /** SHA-256 of the `state` sent to the provider. */
  state_hash: string;
  /** SHA-256 of the value in the browser's login cookie: the callback must come from that browser. */
  browser_hash: string;
  code_verifier: string;
  nonce: string;
  /** Where the browser goes after sign-in: a path on this server. */
  return_to: string;
  expires_at: number;
}

/** A role (and teams) an admin assigned to a person (migration 0026); wins over the provider's groups. */
export interface AuthPersonTable {
  /** A lower-case e-mail address, or the provider's subject (`sub`). */
  person: string;
  role: 'viewer' | 'editor' | 'admin';
  /** JSON list of team names. */
  teams: string;
  /** The name of the admin who assigned it. */
  assigned_by: string;
  assigned_at: number;
}

/** Spec files uploaded through PUT /api/v1/specs, shared by every replica. */
export interface SpecFileTable {
  path: string;
  content: string;
  updated_at: number;
}

/** Per SLI read from Prometheus: how far its minutes are stored, and the last failure. */
export interface SourceCursorTable {
  sli: string;
  /** The data source id (a DataSource name, or `default`). */
  source: string;
  /** Hash of the source and queries the minutes were read with: a change reloads them. */
  plan_hash: string;
  /** First minute stored (the start of the first load). */
  from_ms: number;
  /** End (exclusive) of the complete minutes stored: everything in [from_ms, synced_until_ms) is in. */
  synced_until_ms: number;
  last_success_at: number | null;
  /** Failed pulls since the last success. */
  failures: number;
  last_error: string | null;
  last_error_at: number | null;
  updated_at: number;
}

/** Live alerts: one row per (SLO, rule) that ever left `inactive`; the JSON holds the full StoredAlert. */
export interface AlertTable {
  fingerprint: string;
  slo_id: string;
  rule: string;
  phase: string;
  pending_since: number | null;
  fired_at: number | null;
  resolved_at: number | null;
  alert: string;
  updated_at: number;
}

/** Every transition of every alert (pending, firing, resolved, cancelled), for its history. */
export interface AlertEventTable {
  fingerprint: string;
  at: number;
  transition: string;
  /** The burn rates and labels at the transition (JSON). */
  details: string;
}

/**
 * Notifications to deliver, written in the transaction of the alert transition that caused them;
 * `id` is the idempotency key receivers see.
 */
export interface NotificationOutboxTable {
  id: string;
  target: string;
  fingerprint: string;
  transition: string;
  /** The JSON body to send. */
  payload: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  delivered_at: number | null;
  gave_up_at: number | null;
  last_error: string | null;
}

/** Silences: alerts whose labels match keep their state but send no notifications. */
export interface SilenceTable {
  id: string;
  /** JSON list of {label, value, regex}. */
  matchers: string;
  starts_at: number;
  ends_at: number;
  comment: string;
  created_by: string;
  created_at: number;
}

/** Was a firing worth it? One verdict per firing (alert fingerprint + when it fired); the last one counts. */
export interface AlertFeedbackTable {
  fingerprint: string;
  fired_at: number;
  verdict: 'actionable' | 'noise';
  note: string;
  given_by: string;
  given_at: number;
}

/** Incidents: the columns people filter by, and the whole record as JSON (`incident`). */
export interface IncidentTable {
  id: string;
  number: number;
  title: string;
  severity: string;
  status: string;
  incident: string;
  created_at: number;
  updated_at: number;
}

/** An incident's timeline: every change, note and alert, with source and time (JSON in `event`). */
export interface IncidentEventTable {
  id: string;
  incident_id: string;
  /** Order within the incident (1, 2, …): events of one change share a time. */
  seq: number;
  at: number;
  kind: string;
  event: string;
}

/** Postmortems: markdown covering one or more incidents (`incidents`: JSON list of references). */
export interface PostmortemTable {
  id: string;
  status: string;
  incidents: string;
  markdown: string;
  created_at: number;
  updated_at: number;
}

/** A postmortem's action item: the queried fields as columns, the whole record as JSON in `item`. */
export interface ActionItemTable {
  id: string;
  postmortem_id: string;
  status: string;
  priority: string;
  owner: string | null;
  due_date: string | null;
  item: string;
  created_at: number;
  updated_at: number;
}

/** A recorded exception to the deploy gate: who, why, until when (kept after expiry or revocation, for audit). */
export interface GateOverrideTable {
  id: string;
  service: string;
  reason: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
}

export interface Database {
  sli_minutes: SliMinuteTable;
  ingest_batches: IngestBatchTable;
  slo_status: SloStatusTable;
  slo_history: SloHistoryTable;
  api_tokens: ApiTokenTable;
  audit_events: AuditEventTable;
  auth_sessions: AuthSessionTable;
  auth_logins: AuthLoginTable;
  auth_people: AuthPersonTable;
  auth_logout_tokens: AuthLogoutTokenTable;
  spec_files: SpecFileTable;
  source_cursors: SourceCursorTable;
  alerts: AlertTable;
  alert_events: AlertEventTable;
  notification_outbox: NotificationOutboxTable;
  silences: SilenceTable;
  alert_feedback: AlertFeedbackTable;
  incidents: IncidentTable;
  incident_events: IncidentEventTable;
  postmortems: PostmortemTable;
  action_items: ActionItemTable;
  gate_overrides: GateOverrideTable;
  otlp_series: OtlpSeriesTable;
  otlp_minutes: OtlpMinuteTable;
  slack_incident_channels: SlackIncidentChannelTable;
  slack_seen: SlackSeenTable;
  slack_messages: SlackMessageTable;
  slack_outbox: SlackOutboxTable;
  deployments: DeploymentTable;
  changes: ChangeTable;
  deployment_changes: DeploymentChangeTable;
  delivery_webhook_deliveries: DeliveryWebhookDeliveryTable;
  mail_outbox: MailOutboxTable;
  status_subscribers: StatusSubscriberTable;
  status_mail_incidents: StatusMailIncidentTable;
  mail_state: MailStateTable;
  report_schedule_runs: ReportScheduleRunTable;
  delivery_day_summaries: DeliveryDaySummaryTable;
  engine_checkpoints: EngineCheckpointTable;
  evaluator_shards: EvaluatorShardTable;
  evaluator_replicas: EvaluatorReplicaTable;
  delivery_block_summaries: DeliveryBlockSummaryTable;
  delivery_dirty_days: DeliveryDirtyDayTable;
  sli_hours: SliHourTable;
  sli_dirty_hours: SliDirtyHourTable;
}

/** A recorded deployment (`fixes`: JSON list of incident ids; `gate`: JSON of the gate's answer then). */
export interface DeploymentTable {
  id: string;
  service: string;
  environment: string;
  /** 1 when the environment counted as the service's production when recorded. */
  production: number;
  status: string;
  kind: string;
  version: string | null;
  head_sha: string | null;
  url: string | null;
  source: string;
  started_at: number | null;
  finished_at: number;
  fixes: string;
  gate: string | null;
  change_count: number;
  created_at: number;
  updated_at: number;
}

/** A change (commit) of a service, with the first successful production deployment that shipped it. */
export interface ChangeTable {
  service: string;
  sha: string;
  committed_at: number;
  author: string | null;
  message: string | null;
  recorded_at: number;
  first_deployment_id: string | null;
  first_deployed_at: number | null;
}

/** A saved tiered engine of the evaluator (src/slo/evaluator/checkpoints.ts). */
export interface EngineCheckpointTable {
  /** Digest of the part key (storage key + objective spec). */
  part: string;
  storage_key: string;
  /** The engine's clock (ms). */
  clock_ms: number;
  /** The change feed's cursor when it was saved; null when the feed had seen no row. */
  cursor_ms: number | null;
  /** Rows stamped before this were in the engine's last rebuild. */
  reflected_before_ms: number | null;
  /** `IncrementalObjective.checkpoint()`, little-endian float64s. */
  state: Uint8Array;
  saved_at: number;
}

/** Per service and UTC day (ms ÷ 86,400,000), what the DORA metrics read, packed (src/delivery/summaries.ts). */
export interface DeliveryDaySummaryTable {
  service: string;
  day: number;
  data: Uint8Array;
  /** JSON list of the packed deployments' ids, in their order. */
  ids: string;
}

/** The day summaries of a service's block of 8 UTC days (block = day ÷ 8), concatenated in day order. */
export interface DeliveryBlockSummaryTable {
  service: string;
  block: number;
  data: Uint8Array;
}

/** A (service, UTC day) whose summary a write made stale; appended by triggers. */
export interface DeliveryDirtyDayTable {
  id: Generated<number>;
  service: string;
  day: number;
}

export interface DeploymentChangeTable {
  deployment_id: string;
  sha: string;
}

/** The Slack channel of an incident (one each way) and its pinned card's message ts. */
export interface SlackIncidentChannelTable {
  incident_id: string;
  channel_id: string;
  channel_name: string;
  /** ts of the incident card message (null until it is posted). */
  card_ts: string | null;
  created_at: number;
  updated_at: number;
}

/** A request from Slack already acted on (`event:<event_id>`, `view:<id>:<hash>`, …). */
export interface SlackSeenTable {
  key: string;
  seen_at: number;
}

/** A channel message recorded on an incident's timeline, by its Slack ts. */
export interface SlackMessageTable {
  channel_id: string;
  message_ts: string;
  incident_id: string;
  event_id: string;
}

/** A queued job of calls to Slack (see migration 0015_slack_outbox). */
export interface SlackOutboxTable {
  /** The idempotency key: `open:<incident>`, `card:<incident>`, `remind:<incident>:<n>`. */
  id: string;
  incident_id: string;
  kind: string;
  /** Grows with every change a pending card update covers (latest state wins). */
  version: number;
  /** JSON: the steps done so far and what Slack answered (channel id, card ts…). */
  state: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  done_at: number | null;
  gave_up_at: number | null;
  last_error: string | null;
}

/** OTLP receiver: the last state of one data-point series (JSON), keyed by a hash of its identity. */
export interface OtlpSeriesTable {
  series_key: string;
  state: string;
  updated_at: number;
}

/** OTLP receiver: raw per-minute sums per stored stream, before good is bounded by total. */
export interface OtlpMinuteTable {
  sli: string;
  minute_ts: number;
  good: number;
  bad: number;
  total: number;
}

/** A webhook delivery already acted on, by its sender (`github`, `gitlab`, `webhook`) and delivery id. */
export interface DeliveryWebhookDeliveryTable {
  sender: string;
  delivery_id: string;
  received_at: number;
}

/** A queued mail (see migration 0018_mail); `id` is the logical mail id (idempotency key). */
export interface MailOutboxTable {
  id: string;
  /** What produced it: `status-confirm`, `status-notice`, later `report`… */
  kind: string;
  recipient: string;
  /** JSON of the message (subject, text, html, headers); `{}` once sent or given up. */
  message: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  /** Set before the SMTP transaction starts; with no `sent_at`, the outcome is unknown. */
  sending_at: number | null;
  sent_at: number | null;
  gave_up_at: number | null;
  last_error: string | null;
}

/** A status-page subscriber: `pending` until the confirmation link is used, then `confirmed`. */
export interface StatusSubscriberTable {
  id: string;
  /** Lower-cased address; never shown on any public page or answer. */
  address: string;
  language: string;
  state: string;
  /** SHA-256 (hex) of the pending confirmation token; null once used. */
  confirm_hash: string | null;
  confirm_expires_at: number | null;
  created_at: number;
  confirmed_at: number | null;
  window_start_at: number;
  window_count: number;
}

/** Per incident, what subscribers were mailed: public event ids (JSON list) and the resolution. */
export interface StatusMailIncidentTable {
  incident_id: string;
  announced: string;
  resolved: number;
  updated_at: number;
}

/** Named values of the mail features (HMAC key, scan cursor). */
export interface MailStateTable {
  name: string;
  value: string;
}

/**
 * One occurrence of a scheduled report (migration 0019_report_schedules): recorded in the
 * transaction that queues its deliveries, so its id (`report:<schedule>:<month>`) is sent once.
 */
export interface ReportScheduleRunTable {
  id: string;
  schedule_id: string;
  /** The month the report covers, `YYYY-MM`. */
  month: string;
  /** `sent` (deliveries queued) or `baseline` (the month due when the schedule was first seen: not sent). */
  outcome: string;
  /** When it was due (epoch ms). */
  due_at: number;
  /** When it was recorded. */
  done_at: number;
  /** Deliveries queued: mails, Slack posts and webhook calls. */
  deliveries: number;
}

/** One audited write (src/platform/audit): who, with which credential, what, and when. */
export interface AuditEventTable {
  /** Sortable like `at`: the zero-padded milliseconds, then a per-process sequence and randomness. */
  id: string;
  at: number;
  actor: string;
  /** `token:<id>`, `session:<subject>` (SSO), `slack:<user id>` or `cli:<os user>`. */
  credential: string;
  role: string | null;
  /** `incident.create`, `risk.update`, `silence.delete`, … */
  action: string;
  target_type: string;
  target_id: string;
  /** JSON `{ before, after }` of the changed fields only, secrets redacted. */
  changes: string;
  client_address: string | null;
  request_id: string | null;
  /** JSON list of the teams owning what the write touched (migration 0029); null: none, or older. */
  teams: string | null;
}

/** A shard's lease (sharded evaluation, PostgreSQL; 0025). Times are the database's clock, in ms. */
export interface EvaluatorShardTable {
  shard: number;
  /** The replica holding it; null when free. */
  owner: string | null;
  /** Grows on every takeover; a tick's write commits only under the epoch it was computed with. */
  epoch: number;
  expires_at: number;
  /** When its owner last wrote a tick. */
  written_at: number | null;
}

/** A replica taking part in sharded evaluation, renewed with its leases (0025). */
export interface EvaluatorReplicaTable {
  replica: string;
  /** Its `evaluator.shards`: replicas that disagree must not split the SLOs differently. */
  shards: number;
  expires_at: number;
}
