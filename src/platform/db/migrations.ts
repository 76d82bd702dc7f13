/**
 * One migration set for SQLite and PostgreSQL: only types both understand (text, bigint,
 * double precision) and no dialect-specific SQL — except where a database lacks the feature
 * (0022's triggers, 0024's partitioning of `sli_minutes` on PostgreSQL), each said where it is.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from 'kysely';
import { isPartitioned, WEEK_MS, weekPartitionName } from './partitions.js';
import type { Database } from './schema.js';

const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sli_minutes')
        .addColumn('sli', 'text', (c) => c.notNull())
        .addColumn('minute_ts', 'bigint', (c) => c.notNull())
        .addColumn('good', 'double precision', (c) => c.notNull())
        .addColumn('total', 'double precision', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('sli_minutes_pk', ['sli', 'minute_ts'])
        .execute();
      await db.schema.createIndex('sli_minutes_updated_at').on('sli_minutes').column('updated_at').execute();

      await db.schema
        .createTable('ingest_batches')
        .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
        .addColumn('sli', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('ingest_batches_received_at')
        .on('ingest_batches')
        .column('received_at')
        .execute();

      await db.schema
        .createTable('slo_status')
        .addColumn('slo_id', 'text', (c) => c.primaryKey())
        .addColumn('evaluated_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('slo_history')
        .addColumn('slo_id', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('sli', 'double precision')
        .addColumn('remaining', 'double precision')
        .addColumn('burn_rates', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('slo_history_pk', ['slo_id', 'ts'])
        .execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();

      await db.schema
        .createTable('spec_files')
        .addColumn('path', 'text', (c) => c.primaryKey())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of [
        'spec_files',
        'api_tokens',
        'slo_history',
        'slo_status',
        'ingest_batches',
        'sli_minutes',
      ])
        await db.schema.dropTable(table).ifExists().execute();
    },
  },
  '0002_source_cursors': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('source_cursors')
        .addColumn('sli', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('plan_hash', 'text', (c) => c.notNull())
        .addColumn('from_ms', 'bigint', (c) => c.notNull())
        .addColumn('synced_until_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_success_at', 'bigint')
        .addColumn('failures', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('last_error_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('source_cursors').ifExists().execute();
    },
  },
  '0003_alerts': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('alerts')
        .addColumn('fingerprint', 'text', (c) => c.primaryKey())
        .addColumn('slo_id', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('pending_since', 'bigint')
        .addColumn('fired_at', 'bigint')
        .addColumn('resolved_at', 'bigint')
        .addColumn('alert', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('alert_events')
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('transition', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('alert_events_pk', ['fingerprint', 'at', 'transition'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alert_events').ifExists().execute();
      await db.schema.dropTable('alerts').ifExists().execute();
    },
  },
  '0004_notification_outbox': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('notification_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('transition', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .addColumn('gave_up_at', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('notification_outbox_due')
        .on('notification_outbox')
        .columns(['delivered_at', 'gave_up_at', 'created_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('notification_outbox').ifExists().execute();
    },
  },
  '0005_silences': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('silences')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('matchers', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'bigint', (c) => c.notNull())
        .addColumn('ends_at', 'bigint', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('silences').ifExists().execute();
    },
  },
  '0006_alert_feedback': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('alert_feedback')
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('fired_at', 'bigint', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('given_by', 'text', (c) => c.notNull())
        .addColumn('given_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('alert_feedback_pk', ['fingerprint', 'fired_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('alert_feedback').ifExists().execute();
    },
  },
  '0007_feed_index': {
    // The change feed pages by (updated_at, sli, minute_ts). With only updated_at indexed, every
    // page re-sorted all rows sharing one updated_at (a first load from Prometheus stamps millions
    // alike), which made reading it quadratic; this index lets each page start where the last ended.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('sli_minutes_feed')
        .on('sli_minutes')
        .columns(['updated_at', 'sli', 'minute_ts'])
        .execute();
      await db.schema.dropIndex('sli_minutes_updated_at').ifExists().execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.createIndex('sli_minutes_updated_at').on('sli_minutes').column('updated_at').execute();
      await db.schema.dropIndex('sli_minutes_feed').ifExists().execute();
    },
  },
  '0008_incidents': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('number', 'bigint', (c) => c.notNull().unique())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('incident', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('incident_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('incident_events_by_incident')
        .on('incident_events')
        .columns(['incident_id', 'at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('incident_events').ifExists().execute();
      await db.schema.dropTable('incidents').ifExists().execute();
    },
  },
  '0009_postmortems': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('postmortems')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('incidents', 'text', (c) => c.notNull())
        .addColumn('markdown', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('postmortems').ifExists().execute();
    },
  },
  '0010_action_items': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('action_items')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('postmortem_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('owner', 'text')
        .addColumn('due_date', 'text')
        .addColumn('item', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('action_items_by_postmortem')
        .on('action_items')
        .column('postmortem_id')
        .execute();
      await db.schema
        .createIndex('action_items_open_by_due')
        .on('action_items')
        .columns(['status', 'due_date'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('action_items').ifExists().execute();
    },
  },
  '0011_gate_overrides': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('gate_overrides')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_by', 'text')
        .execute();
      await db.schema
        .createIndex('gate_overrides_by_service')
        .on('gate_overrides')
        .columns(['service', 'expires_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('gate_overrides').ifExists().execute();
    },
  },
  '0012_forget_remote_error_text': {
    // Errors stored before remote failures were summarised may quote a remote body (issue 14):
    // forget them; the next failure stores its summary.
    async up(db: Kysely<unknown>) {
      const trusted = db as unknown as Kysely<Database>;
      await trusted.updateTable('source_cursors').set({ last_error: null }).execute();
      await trusted.updateTable('notification_outbox').set({ last_error: null }).execute();
    },
    async down() {},
  },
  '0013_otlp': {
    async up(db: Kysely<unknown>) {
      // Per-series state of the OTLP receiver (the last cumulative point, or a delta series' last
      // time), written in the transaction that adds its minutes, so a retried export adds nothing.
      await db.schema
        .createTable('otlp_series')
        .ifNotExists()
        .addColumn('series_key', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // Raw per-minute sums of what OTLP points added to each stream (good, bad and total apart);
      // sli_minutes holds the consistent counts derived from them (good ≤ total).
      await db.schema
        .createTable('otlp_minutes')
        .ifNotExists()
        .addColumn('sli', 'text', (c) => c.notNull())
        .addColumn('minute_ts', 'bigint', (c) => c.notNull())
        .addColumn('good', 'double precision', (c) => c.notNull())
        .addColumn('bad', 'double precision', (c) => c.notNull())
        .addColumn('total', 'double precision', (c) => c.notNull())
        .addPrimaryKeyConstraint('otlp_minutes_pk', ['sli', 'minute_ts'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('otlp_minutes').ifExists().execute();
      await db.schema.dropTable('otlp_series').ifExists().execute();
    },
  },
  '0014_slack': {
    async up(db: Kysely<unknown>) {
      // Incident ↔ Slack channel (one each way); card_ts is the pinned incident card's message.
      await db.schema
        .createTable('slack_incident_channels')
        .ifNotExists()
        .addColumn('incident_id', 'text', (c) => c.primaryKey())
        .addColumn('channel_id', 'text', (c) => c.notNull().unique())
        .addColumn('channel_name', 'text', (c) => c.notNull())
        .addColumn('card_ts', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // Requests from Slack already acted on (event_id, trigger_id, view id…), so a retry or a
      // replay after a restart does nothing; rows older than the retry horizon are pruned.
      await db.schema
        .createTable('slack_seen')
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('seen_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('slack_seen_at').ifNotExists().on('slack_seen').column('seen_at').execute();
      // A channel message recorded on an incident's timeline, so edits, deletions and the pin
      // reaction reach the same event.
      await db.schema
        .createTable('slack_messages')
        .ifNotExists()
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('message_ts', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('slack_messages_pk', ['channel_id', 'message_ts'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('slack_messages').ifExists().execute();
      await db.schema.dropTable('slack_seen').ifExists().execute();
      await db.schema.dropTable('slack_incident_channels').ifExists().execute();
    },
  },
  '0015_slack_outbox': {
    async up(db: Kysely<unknown>) {
      // Calls to Slack, queued in the transaction of the incident change that needs them (a
      // transactional outbox) and made by the leader with retries. One row per job: `open:<incident>`
      // (channel, invites, card, pin, announcement; `state` records each step done, so a restart
      // resumes without repeating one), `card:<incident>` (the card update; `version` grows with
      // every change, latest state wins), `remind:<incident>:<n>` (the status-update reminder).
      await db.schema
        .createTable('slack_outbox')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('incident_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('done_at', 'bigint')
        .addColumn('gave_up_at', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('slack_outbox_pending')
        .ifNotExists()
        .on('slack_outbox')
        .columns(['done_at', 'gave_up_at', 'next_attempt_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('slack_outbox').ifExists().execute();
    },
  },
  '0016_delivery': {
    async up(db: Kysely<unknown>) {
      // Deployments (the queried fields as columns). `production` is decided when the deployment is
      // recorded, from delivery.production; `fixes` and `gate` are JSON.
      await db.schema
        .createTable('deployments')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('production', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('head_sha', 'text')
        .addColumn('url', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint', (c) => c.notNull())
        .addColumn('fixes', 'text', (c) => c.notNull())
        .addColumn('gate', 'text')
        .addColumn('change_count', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // The metrics read these columns of a period's production deployments (of some services, or
      // of all): the indexes carry them, so the read never visits the table. `fixes` (JSON, up to 50
      // incident ids) stays out of them; the few deployments that fix something are read through
      // the partial index deployments_fixing.
      await db.schema
        .createIndex('deployments_by_service')
        .ifNotExists()
        .on('deployments')
        .columns(['service', 'production', 'finished_at', 'status', 'kind', 'id'])
        .execute();
      await db.schema
        .createIndex('deployments_by_time')
        .ifNotExists()
        .on('deployments')
        .columns(['production', 'finished_at', 'status', 'kind', 'service', 'id'])
        .execute();
      await db.schema
        .createIndex('deployments_fixing')
        .ifNotExists()
        .on('deployments')
        .column('finished_at')
        .where(sql.ref('fixes'), '<>', '[]')
        .execute();
      // Changes (commits) per service, with the first successful production deployment that shipped
      // each: lead time is read from here without joining deployments.
      await db.schema
        .createTable('changes')
        .ifNotExists()
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('committed_at', 'bigint', (c) => c.notNull())
        .addColumn('author', 'text')
        .addColumn('message', 'text')
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .addColumn('first_deployment_id', 'text')
        .addColumn('first_deployed_at', 'bigint')
        .addPrimaryKeyConstraint('changes_pk', ['service', 'sha'])
        .execute();
      // Lead times are read by first deployment time (of some services, or of all), and only these
      // columns: the indexes carry committed_at so the read never visits the table (at millions of
      // changes, the table lookups cost as much as the rest of the read; bench/README.md "Delivery").
      await db.schema
        .createIndex('changes_by_first_deploy')
        .ifNotExists()
        .on('changes')
        .columns(['service', 'first_deployed_at', 'committed_at'])
        .execute();
      await db.schema
        .createIndex('changes_by_first_deploy_time')
        .ifNotExists()
        .on('changes')
        .columns(['first_deployed_at', 'service', 'committed_at'])
        .execute();
      // Which changes each deployment shipped.
      await db.schema
        .createTable('deployment_changes')
        .ifNotExists()
        .addColumn('deployment_id', 'text', (c) => c.notNull())
        .addColumn('sha', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_changes_pk', ['deployment_id', 'sha'])
        .execute();
      // Recording a deployment looks up the deployments that contain each of its changes (the first
      // successful one ships it): without this, every deployment recorded scans the whole table.
      await db.schema
        .createIndex('deployment_changes_by_sha')
        .ifNotExists()
        .on('deployment_changes')
        .columns(['sha', 'deployment_id'])
        .execute();
      // An incident's cause named by a commit is resolved by sha (also an abbreviated one, as a
      // range), on every metrics read: without this, each one scans the changes.
      await db.schema
        .createIndex('changes_by_sha')
        .ifNotExists()
        .on('changes')
        .columns(['sha', 'first_deployed_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('deployment_changes').ifExists().execute();
      await db.schema.dropTable('changes').ifExists().execute();
      await db.schema.dropTable('deployments').ifExists().execute();
    },
  },
  '0017_delivery_webhooks': {
    async up(db: Kysely<unknown>) {
      // Webhook deliveries already acted on (GitHub X-GitHub-Delivery, GitLab X-Gitlab-Event-UUID,
      // CloudEvents source + id), so a redelivered event counts once; old rows are pruned.
      await db.schema
        .createTable('delivery_webhook_deliveries')
        .ifNotExists()
        .addColumn('sender', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_webhook_deliveries_pk', ['sender', 'delivery_id'])
        .execute();
      await db.schema
        .createIndex('delivery_webhook_deliveries_received')
        .ifNotExists()
        .on('delivery_webhook_deliveries')
        .column('received_at')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('delivery_webhook_deliveries').ifExists().execute();
    },
  },
  '0018_mail': {
    async up(db: Kysely<unknown>) {
      // The durable mail outbox (src/platform/mail-outbox.ts): one row per logical mail, its id the
      // idempotency key. `sending_at` is set (committed) before the SMTP transaction and `sent_at`
      // after it, so a crash in between leaves a claimed row that is sent once more, never again.
      // The body (`message`, JSON) is emptied once the mail is sent or given up.
      await db.schema
        .createTable('mail_outbox')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('sending_at', 'bigint')
        .addColumn('sent_at', 'bigint')
        .addColumn('gave_up_at', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('mail_outbox_pending')
        .ifNotExists()
        .on('mail_outbox')
        .columns(['sent_at', 'gave_up_at', 'next_attempt_at'])
        .execute();
      // Status-page subscribers (double opt-in). Only a hash of the confirmation token is kept;
      // an unsubscribe deletes the row. `window_*` counts confirmation mails per address and hour.
      await db.schema
        .createTable('status_subscribers')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('address', 'text', (c) => c.notNull().unique())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('confirm_hash', 'text')
        .addColumn('confirm_expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('window_start_at', 'bigint', (c) => c.notNull())
        .addColumn('window_count', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('status_subscribers_confirm')
        .ifNotExists()
        .on('status_subscribers')
        .column('confirm_hash')
        .execute();
      // Per incident: the public updates already mailed to subscribers, and whether its resolution was.
      await db.schema
        .createTable('status_mail_incidents')
        .ifNotExists()
        .addColumn('incident_id', 'text', (c) => c.primaryKey())
        .addColumn('announced', 'text', (c) => c.notNull())
        .addColumn('resolved', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // Small named values of the mail features: the HMAC key of unsubscribe and form tokens, the scan cursor.
      await db.schema
        .createTable('mail_state')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('mail_state').ifExists().execute();
      await db.schema.dropTable('status_mail_incidents').ifExists().execute();
      await db.schema.dropTable('status_subscribers').ifExists().execute();
      await db.schema.dropTable('mail_outbox').ifExists().execute();
    },
  },
  '0019_report_schedules': {
    async up(db: Kysely<unknown>) {
      // Scheduled monthly reports (src/reports/schedules.ts): one row per (schedule, month) done,
      // inserted in the transaction that queues its mails, Slack post and webhook call, so a month
      // is sent once whatever restarts or replicas do. A schedule's latest month is its cursor.
      await db.schema
        .createTable('report_schedule_runs')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('schedule_id', 'text', (c) => c.notNull())
        .addColumn('month', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('done_at', 'bigint', (c) => c.notNull())
        .addColumn('deliveries', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('report_schedule_runs_schedule')
        .ifNotExists()
        .on('report_schedule_runs')
        .columns(['schedule_id', 'month'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('report_schedule_runs').ifExists().execute();
    },
  },
  '0020_delivery_summaries': {
    async up(db: Kysely<unknown>) {
      // Per service and UTC day, what the DORA metrics read (src/delivery/summaries.ts): the
      // production deployments' finishes and kinds and the first-shipped changes' lead times, packed
      // in one binary value, so a year of a hundred services is ~40,000 rows instead of 3.5 million.
      // `ids` (JSON) lists the deployments in the packed order, read only to place causes and fixes.
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema
        .createTable('delivery_day_summaries')
        .ifNotExists()
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('day', 'integer', (c) => c.notNull())
        .addColumn('data', postgres ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('ids', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_day_summaries_pk', ['service', 'day'])
        .execute();
      // The same summaries eight days to a row (the day summaries of a block, concatenated), which
      // is what the metrics read: a year is ~4,600 rows, and reading a row costs more than its bytes.
      await db.schema
        .createTable('delivery_block_summaries')
        .ifNotExists()
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('block', 'integer', (c) => c.notNull())
        .addColumn('data', postgres ? 'bytea' : 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_block_summaries_pk', ['service', 'block'])
        .execute();
      // The (service, day) summaries a write made stale, appended by the triggers below in the
      // writer's transaction (append-only: no row two writers contend for); the metrics rebuild
      // and delete them before reading.
      if (postgres)
        await sql`CREATE TABLE IF NOT EXISTS delivery_dirty_days (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          service text NOT NULL,
          day integer NOT NULL)`.execute(db);
      else
        await sql`CREATE TABLE IF NOT EXISTS delivery_dirty_days (
          id integer PRIMARY KEY,
          service text NOT NULL,
          day integer NOT NULL)`.execute(db);
      await db.schema
        .createIndex('delivery_dirty_days_by_key')
        .ifNotExists()
        .on('delivery_dirty_days')
        .columns(['service', 'day'])
        .execute();
      for (const statement of postgres ? postgresSummaryTriggers() : SQLITE_SUMMARY_TRIGGERS)
        await sql.raw(statement).execute(db);
      // What is already stored is stale from the start.
      await sql`INSERT INTO delivery_dirty_days (service, day)
        SELECT DISTINCT service, CAST(finished_at / 86400000 AS integer) FROM deployments WHERE production = 1
        UNION
        SELECT DISTINCT service, CAST(first_deployed_at / 86400000 AS integer) FROM changes
          WHERE first_deployed_at IS NOT NULL`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      for (const trigger of [
        'deployments_summary_insert',
        'deployments_summary_update',
        'deployments_summary_delete',
      ])
        await sql.raw(`DROP TRIGGER IF EXISTS ${trigger}${postgres ? ' ON deployments' : ''}`).execute(db);
      for (const trigger of ['changes_summary_insert', 'changes_summary_update'])
        await sql.raw(`DROP TRIGGER IF EXISTS ${trigger}${postgres ? ' ON changes' : ''}`).execute(db);
      if (postgres)
        for (const name of [
          'deployments_summary_insert',
          'deployments_summary_update',
          'deployments_summary_delete',
          'changes_summary_insert',
          'changes_summary_update',
        ])
          await sql.raw(`DROP FUNCTION IF EXISTS ${name}()`).execute(db);
      await db.schema.dropTable('delivery_dirty_days').ifExists().execute();
      await db.schema.dropTable('delivery_block_summaries').ifExists().execute();
      await db.schema.dropTable('delivery_day_summaries').ifExists().execute();
    },
  },
  '0021_sli_minutes_counts': {
    async up(db: Kysely<unknown>) {
      // The counts beside the key: sums over an SLI's minutes (a month's report, a window rebuilt
      // after a restart) read this index alone, in key order, instead of one table row per minute
      // wherever ingestion put it (interleaved across SLIs: 10.2 s → 0.76 s for a month of 50 SLIs
      // on SQLite; bench/README.md "report").
      await db.schema
        .createIndex('sli_minutes_counts')
        .ifNotExists()
        .on('sli_minutes')
        .columns(['sli', 'minute_ts', 'good', 'total'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('sli_minutes_counts').ifExists().execute();
    },
  },
  '0022_sli_hours': {
    async up(db: Kysely<unknown>) {
      // Per SLI and UTC hour, the sums of its valid minutes (src/slo/hour-sums.ts): a month's
      // figures read ~720 rows per SLI instead of ~43,000. Kept exact by marks, not by the writers:
      // triggers append the (sli, hour) a write touches to sli_dirty_hours in the writer's
      // transaction, and the hours are recomputed from their minutes before they are read.
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema
        .createTable('sli_hours')
        .ifNotExists()
        .addColumn('sli', 'text', (c) => c.notNull())
        .addColumn('hour_ts', 'bigint', (c) => c.notNull())
        .addColumn('good', 'double precision', (c) => c.notNull())
        .addColumn('bad', 'double precision', (c) => c.notNull())
        .addColumn('total', 'double precision', (c) => c.notNull())
        .addColumn('data_minutes', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('sli_hours_pk', ['sli', 'hour_ts'])
        .execute();
      // Append-only on PostgreSQL (no row two ingesting transactions could wait on each other
      // for); on SQLite, where one writer runs at a time, a mark is made once (index below).
      if (postgres)
        await sql`CREATE TABLE IF NOT EXISTS sli_dirty_hours (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          sli text NOT NULL,
          hour_ts bigint NOT NULL)`.execute(db);
      else {
        await sql`CREATE TABLE IF NOT EXISTS sli_dirty_hours (
          id integer PRIMARY KEY,
          sli text NOT NULL,
          hour_ts bigint NOT NULL)`.execute(db);
        await db.schema
          .createIndex('sli_dirty_hours_by_key')
          .ifNotExists()
          .on('sli_dirty_hours')
          .columns(['sli', 'hour_ts'])
          .execute();
      }
      for (const statement of postgres ? postgresHourTriggers() : SQLITE_HOUR_TRIGGERS)
        await sql.raw(statement).execute(db);
      // What is stored already, summed once (re-runnable: the hours are replaced).
      await sql`DELETE FROM sli_hours`.execute(db);
      await sql
        .raw(`INSERT INTO sli_hours (sli, hour_ts, good, bad, total, data_minutes)
        SELECT sli, ${HOUR_OF('minute_ts')}, ${HOUR_SUMS} FROM sli_minutes GROUP BY sli, ${HOUR_OF('minute_ts')}`)
        .execute(db);
    },
    async down(db: Kysely<unknown>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      for (const trigger of HOUR_TRIGGERS)
        await sql.raw(`DROP TRIGGER IF EXISTS ${trigger}${postgres ? ' ON sli_minutes' : ''}`).execute(db);
      if (postgres)
        for (const name of HOUR_TRIGGERS) await sql.raw(`DROP FUNCTION IF EXISTS ${name}()`).execute(db);
      await db.schema.dropTable('sli_dirty_hours').ifExists().execute();
      await db.schema.dropTable('sli_hours').ifExists().execute();
    },
  },
  '0023_engine_checkpoints': {
    async up(db: Kysely<unknown>) {
      // The evaluator's tiered engines, saved every few ticks (src/slo/evaluator/checkpoints.ts):
      // a restarted server or a replica taking over moves them on from here instead of rebuilding
      // every window from 30 days of minutes. `part` is a digest of the part's key (storage key +
      // objective); `cursor_ms` and `reflected_before_ms` place the state in the change feed.
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema
        .createTable('engine_checkpoints')
        .ifNotExists()
        .addColumn('part', 'text', (c) => c.primaryKey())
        .addColumn('storage_key', 'text', (c) => c.notNull())
        .addColumn('clock_ms', 'bigint', (c) => c.notNull())
        .addColumn('cursor_ms', 'bigint')
        .addColumn('reflected_before_ms', 'bigint')
        .addColumn('state', postgres ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('saved_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('engine_checkpoints').ifExists().execute();
    },
  },
  '0024_sli_minutes_partitions': {
    // The one migration with dialect-specific SQL: on PostgreSQL `sli_minutes` becomes a table
    // partitioned by week of minute_ts, so retention drops whole old weeks instead of deleting
    // rows one batch at a time (docs/retention.md#partitions-postgresql). SQLite has no partitioning and keeps
    // its table. Same name, columns, primary key and indexes: every query is unchanged.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await partitionMinutes(db);
    },
    async down(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
      await unpartitionMinutes(db);
    },
  },
  '0025_evaluation_shards': {
    async up(db: Kysely<unknown>) {
      // Sharded evaluation on PostgreSQL (src/slo/evaluator/shard-leases.ts): one lease row per
      // shard, taken and renewed with conditional UPDATEs on the database's clock; `epoch` grows on
      // every takeover and fences each tick's write. Replicas announce themselves in
      // evaluator_replicas so each can compute its share. Unused (and empty) on SQLite.
      await db.schema
        .createTable('evaluator_shards')
        .ifNotExists()
        .addColumn('shard', 'integer', (c) => c.primaryKey())
        .addColumn('owner', 'text')
        .addColumn('epoch', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('expires_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('written_at', 'bigint')
        .execute();
      await db.schema
        .createTable('evaluator_replicas')
        .ifNotExists()
        .addColumn('replica', 'text', (c) => c.primaryKey())
        .addColumn('shards', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      // Who wrote each status, under which lease epoch (null: unsharded evaluation).
      await addColumnIfMissing(db, 'slo_status', 'evaluated_by', 'text');
      await addColumnIfMissing(db, 'slo_status', 'shard_epoch', 'bigint');
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('slo_status').dropColumn('shard_epoch').execute();
      await db.schema.alterTable('slo_status').dropColumn('evaluated_by').execute();
      await db.schema.dropTable('evaluator_replicas').ifExists().execute();
      await db.schema.dropTable('evaluator_shards').ifExists().execute();
    },
  },
  '0026_sso_sessions': {
    async up(db: Kysely<unknown>) {
      // Single sign-on (platform/auth/sessions.ts). A session is found by the SHA-256 of its cookie
      // value: the table holds nothing a browser could present. `id_token` is only sent back to
      // the provider as the logout hint.
      await db.schema
        .createTable('auth_sessions')
        .ifNotExists()
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('teams', 'text', (c) => c.notNull())
        .addColumn('id_token', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('auth_sessions_expires_at')
        .ifNotExists()
        .on('auth_sessions')
        .column('expires_at')
        .execute();
      // Logins in flight, by the SHA-256 of their `state`; deleted when the provider's answer is
      // taken, so a replayed callback finds nothing. Shared by replicas, unlike a server's memory.
      await db.schema
        .createTable('auth_logins')
        .ifNotExists()
        .addColumn('state_hash', 'text', (c) => c.primaryKey())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('return_to', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      // Roles and teams an admin assigned to a person (an e-mail address or the provider's subject),
      // which win over the provider's groups at sign-in.
      await db.schema
        .createTable('auth_people')
        .ifNotExists()
        .addColumn('person', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('teams', 'text', (c) => c.notNull())
        .addColumn('assigned_by', 'text', (c) => c.notNull())
        .addColumn('assigned_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('auth_people').ifExists().execute();
      await db.schema.dropTable('auth_logins').ifExists().execute();
      await db.schema.dropTable('auth_sessions').ifExists().execute();
    },
  },
  '0027_audit_events': {
    async up(db: Kysely<unknown>) {
      // The audit log (src/platform/audit): one row per write, inserted in the write's own
      // transaction. `id` sorts like `at` (zero-padded ms first), so it is the pagination cursor.
      await db.schema
        .createTable('audit_events')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('credential', 'text', (c) => c.notNull())
        .addColumn('role', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('changes', 'text', (c) => c.notNull())
        .addColumn('client_address', 'text')
        .addColumn('request_id', 'text')
        .execute();
      // Retention deletes by time; the filters narrow by who, what and which object, newest first.
      await db.schema.createIndex('audit_events_at').ifNotExists().on('audit_events').column('at').execute();
      await db.schema
        .createIndex('audit_events_actor')
        .ifNotExists()
        .on('audit_events')
        .columns(['actor', 'id'])
        .execute();
      await db.schema
        .createIndex('audit_events_action')
        .ifNotExists()
        .on('audit_events')
        .columns(['action', 'id'])
        .execute();
      await db.schema
        .createIndex('audit_events_target')
        .ifNotExists()
        .on('audit_events')
        .columns(['target_type', 'target_id', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('audit_events').ifExists().execute();
    },
  },
  '0028_team_scopes': {
    async up(db: Kysely<unknown>) {
      // An API token may be scoped to teams (JSON list); NULL keeps today's meaning: every team.
      await addColumnIfMissing(db, 'api_tokens', 'teams', 'text');
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('api_tokens').dropColumn('teams').execute();
    },
  },
  '0029_audit_teams': {
    async up(db: Kysely<unknown>) {
      // The teams owning what an audit event touched (JSON list); NULL for events written before
      // it, or by a version that does not fill it yet, and for writes touching no team's service.
      await addColumnIfMissing(db, 'audit_events', 'teams', 'text');
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('audit_events').dropColumn('teams').execute();
    },
  },
  '0030_session_sid': {
    async up(db: Kysely<unknown>) {
      // OIDC back-channel logout (docs/sso.md#back-channel-logout): the provider's session id
      // (`sid` of the ID token) names the sessions a logout token ends; NULL for older sessions
      // and providers that send none (they are found by subject).
      await addColumnIfMissing(db, 'auth_sessions', 'sid', 'text');
      await db.schema
        .createIndex('auth_sessions_sid')
        .ifNotExists()
        .on('auth_sessions')
        .column('sid')
        .execute();
      await db.schema
        .createIndex('auth_sessions_subject')
        .ifNotExists()
        .on('auth_sessions')
        .column('subject')
        .execute();
      // Logout tokens taken, by the SHA-256 of issuer and `jti`, until they are too old to be
      // accepted anyway: the same token sent again is refused, on every replica.
      await db.schema
        .createTable('auth_logout_tokens')
        .ifNotExists()
        .addColumn('jti_hash', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('auth_logout_tokens').ifExists().execute();
      await db.schema.dropIndex('auth_sessions_subject').ifExists().execute();
      await db.schema.dropIndex('auth_sessions_sid').ifExists().execute();
      await db.schema.alterTable('auth_sessions').dropColumn('sid').execute();
    },
  },
  '0031_sli_minutes_without_rowid': {
    // SQLite only: `sli_minutes` becomes a WITHOUT ROWID table, its rows stored in the primary key
    // (sli, minute_ts) beside their counts, which makes 0021's covering index redundant. A minute
    // written is then two B-trees (the key and the change feed's index) instead of four (rowid
    // table, key, feed, counts): the bulk insert of a first load costs ~30 % less a row and the
    // sums over an SLI's minutes still read in key order (bench/README.md, prometheus.bench.ts
    // 2026-12-08). Same name, columns and key: every query is unchanged. PostgreSQL keeps its
    // partitions (0024).
    async up(db: Kysely<unknown>) {
      if (db.getExecutor().adapter instanceof PostgresAdapter) return;
      await rebuildSqliteMinutes(db, 'without rowid');
    },
    async down(db: Kysely<unknown>) {
      if (db.getExecutor().adapter instanceof PostgresAdapter) return;
      await rebuildSqliteMinutes(db, 'rowid');
    },
  },
};

/** Weeks given a partition of their own by the migration, newest first; older rows go to the default partition. */
const MIGRATION_MAX_WEEKS = 160;
/** 1970-01-05, the first Monday after the epoch: weeks are counted from it. */
const MONDAY_MS = 4 * 86_400_000;

/** The columns of `sli_minutes`, in order, and with their types (migration 0001). */
const MINUTE_COLUMNS = 'sli, minute_ts, good, total, updated_at';
const MINUTE_COLUMN_TYPES = `sli text NOT NULL, minute_ts bigint NOT NULL, good double precision NOT NULL,
  total double precision NOT NULL, updated_at bigint NOT NULL`;

/** The indexes of `sli_minutes` besides its primary key (migrations 0007 and 0021; SQLite drops 0021's in 0031). */
const MINUTE_FEED_INDEX = 'CREATE INDEX sli_minutes_feed ON sli_minutes (updated_at, sli, minute_ts)';
const MINUTE_INDEXES = [
  MINUTE_FEED_INDEX,
  'CREATE INDEX sli_minutes_counts ON sli_minutes (sli, minute_ts, good, total)',
];

/**
 * Migration 0024 up: renames the table aside, creates the partitioned one with a partition per
 * week that holds rows (and a default one), copies the rows, builds the key and indexes after the
 * copy (faster than row by row), and moves the hour-sum triggers over. In the migration's
 * transaction: a crash leaves the old table as it was. The triggers go on last, so the copy marks
 * no hour sum (the rows, and so the sums, are unchanged).
 */
async function partitionMinutes(db: Kysely<unknown>): Promise<void> {
  if (await isPartitioned(db)) return;
  const empty = (await sql`SELECT 1 FROM sli_minutes LIMIT 1`.execute(db)).rows.length === 0;
  if (empty) {
    // A new database (every test's): the same end state in one round trip (a multi-statement
    // simple query, run in the migration's transaction).
    await sql
      .raw(
        [
          'DROP TABLE sli_minutes',
          `CREATE TABLE sli_minutes (${MINUTE_COLUMN_TYPES}) PARTITION BY RANGE (minute_ts)`,
          'CREATE TABLE sli_minutes_default PARTITION OF sli_minutes DEFAULT',
          'ALTER TABLE sli_minutes ADD CONSTRAINT sli_minutes_pk PRIMARY KEY (sli, minute_ts)',
          ...MINUTE_INDEXES,
          ...postgresHourTriggers(),
        ].join(';\n'),
      )
      .execute(db);
    return;
  }
  await sql`ALTER TABLE sli_minutes RENAME TO sli_minutes_unpartitioned`.execute(db);
  for (const index of ['sli_minutes_pk', 'sli_minutes_feed', 'sli_minutes_counts'])
    await sql.raw(`ALTER INDEX IF EXISTS ${index} RENAME TO ${index}_unpartitioned`).execute(db);
  await sql
    .raw(`CREATE TABLE sli_minutes (${MINUTE_COLUMN_TYPES}) PARTITION BY RANGE (minute_ts)`)
    .execute(db);
  await sql`CREATE TABLE sli_minutes_default PARTITION OF sli_minutes DEFAULT`.execute(db);
  const weeks = await sql<{ week: string }>`SELECT DISTINCT
      floor((minute_ts - ${sql.lit(MONDAY_MS)})::float8 / ${sql.lit(WEEK_MS)})::bigint AS week
    FROM sli_minutes_unpartitioned ORDER BY week DESC LIMIT ${sql.lit(MIGRATION_MAX_WEEKS)}`.execute(db);
  for (const { week } of weeks.rows) {
    const startMs = Number(week) * WEEK_MS + MONDAY_MS;
    const name = weekPartitionName(startMs);
    if (name === null) continue;
    await sql
      .raw(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF sli_minutes
        FOR VALUES FROM (${startMs}) TO (${startMs + WEEK_MS})`)
      .execute(db);
  }
  await sql
    .raw(
      `INSERT INTO sli_minutes (${MINUTE_COLUMNS}) SELECT ${MINUTE_COLUMNS} FROM sli_minutes_unpartitioned`,
    )
    .execute(db);
  await sql`DROP TABLE sli_minutes_unpartitioned`.execute(db);
  await sql`ALTER TABLE sli_minutes ADD CONSTRAINT sli_minutes_pk PRIMARY KEY (sli, minute_ts)`.execute(db);
  for (const statement of MINUTE_INDEXES) await sql.raw(statement).execute(db);
  for (const statement of postgresHourTriggers()) await sql.raw(statement).execute(db);
}

/** Migration 0024 down: the plain table again, with every row. */
async function unpartitionMinutes(db: Kysely<unknown>): Promise<void> {
  if (!(await isPartitioned(db))) return;
  await sql.raw(`CREATE TABLE sli_minutes_plain (${MINUTE_COLUMN_TYPES})`).execute(db);
  await sql
    .raw(`INSERT INTO sli_minutes_plain (${MINUTE_COLUMNS}) SELECT ${MINUTE_COLUMNS} FROM sli_minutes`)
    .execute(db);
  // Dropping the partitioned table drops its partitions and triggers.
  await sql`DROP TABLE sli_minutes`.execute(db);
  await sql`ALTER TABLE sli_minutes_plain RENAME TO sli_minutes`.execute(db);
  await sql`ALTER TABLE sli_minutes ADD CONSTRAINT sli_minutes_pk PRIMARY KEY (sli, minute_ts)`.execute(db);
  for (const statement of MINUTE_INDEXES) await sql.raw(statement).execute(db);
  for (const statement of postgresHourTriggers()) await sql.raw(statement).execute(db);
}

/**
 * Migration 0031 on SQLite: `sli_minutes` rebuilt as a WITHOUT ROWID table (up) or back as a rowid
 * table with 0021's covering index (down), the rows copied in key order, then the feed index and
 * the hour-sum triggers put back (after the copy: the rows, and so the hour sums, are unchanged).
 * In one transaction (SQLite migrations run outside one): a crash leaves the old table as it was.
 * Re-running on a table already in the wanted shape does nothing.
 */
async function rebuildSqliteMinutes(db: Kysely<unknown>, shape: 'without rowid' | 'rowid'): Promise<void> {
  const table = await sql<{
    sql: string;
  }>`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sli_minutes'`.execute(db);
  const withoutRowid = /WITHOUT\s+ROWID\s*$/i.test(table.rows[0]?.sql ?? '');
  if (withoutRowid === (shape === 'without rowid')) return;
  await db.transaction().execute(async (trx) => {
    await sql`DROP TABLE IF EXISTS sli_minutes_rebuilt`.execute(trx);
    await sql
      .raw(
        `CREATE TABLE sli_minutes_rebuilt (${MINUTE_COLUMN_TYPES},
          CONSTRAINT sli_minutes_pk PRIMARY KEY (sli, minute_ts))${shape === 'without rowid' ? ' WITHOUT ROWID' : ''}`,
      )
      .execute(trx);
    await sql
      .raw(
        `INSERT INTO sli_minutes_rebuilt (${MINUTE_COLUMNS})
          SELECT ${MINUTE_COLUMNS} FROM sli_minutes ORDER BY sli, minute_ts`,
      )
      .execute(trx);
    // Dropping the old table drops its indexes and triggers.
    await sql`DROP TABLE sli_minutes`.execute(trx);
    await sql`ALTER TABLE sli_minutes_rebuilt RENAME TO sli_minutes`.execute(trx);
    for (const statement of shape === 'without rowid' ? [MINUTE_FEED_INDEX] : MINUTE_INDEXES)
      await sql.raw(statement).execute(trx);
    for (const statement of SQLITE_HOUR_TRIGGERS) await sql.raw(statement).execute(trx);
  });
}

/** Migrations run again on a database that has them (see db.test): a column is added once. */
async function addColumnIfMissing(
  db: Kysely<unknown>,
  table: string,
  column: string,
  type: 'text' | 'bigint',
) {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql.raw(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${column} ${type}`).execute(db);
    return;
  }
  const columns = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`.execute(db);
  if (!columns.rows.some((c) => c.name === column))
    await db.schema.alterTable(table).addColumn(column, type).execute();
}

/** The UTC hour (ms) of a millisecond column, as both databases compute it (integer division). */
export const HOUR_OF = (column: string) => `((${column} / 3600000) * 3600000)`;

/**
 * Σgood, Σ(total − good), Σtotal and the minutes with data over `sli_minutes` rows, counting only
 * the samples the engine accepts (0 ≤ good ≤ total), in `sli_hours`' column order. Shared by the
 * migration's first fill and slo/hour-sums.ts, so both sum alike.
 */
export const HOUR_SUMS = `SUM(CASE WHEN good >= 0 AND good <= total THEN good ELSE 0 END),
  SUM(CASE WHEN good >= 0 AND good <= total THEN total - good ELSE 0 END),
  SUM(CASE WHEN good >= 0 AND good <= total THEN total ELSE 0 END),
  SUM(CASE WHEN good >= 0 AND good <= total AND total > 0 THEN 1 ELSE 0 END)`;

const HOUR_TRIGGERS = ['sli_minutes_hours_insert', 'sli_minutes_hours_update', 'sli_minutes_hours_delete'];

/**
 * SQLite: row triggers marking the (sli, hour) a write touches, once per hour until it is summed.
 * The insert and delete triggers test for a pending mark in WHEN, where SQLite skips the trigger's
 * program when it is false: a bulk load of new minutes costs ~10 % more instead of ~40 %.
 */
const SQLITE_HOUR_TRIGGERS = (() => {
  const hourOf = (row: 'NEW' | 'OLD') => HOUR_OF(`${row}.minute_ts`);
  const unmarked = (row: 'NEW' | 'OLD') =>
    `NOT EXISTS (SELECT 1 FROM sli_dirty_hours WHERE sli = ${row}.sli AND hour_ts = ${hourOf(row)})`;
  const mark = (row: 'NEW' | 'OLD') =>
    `INSERT INTO sli_dirty_hours (sli, hour_ts) SELECT ${row}.sli, ${hourOf(row)} WHERE ${unmarked(row)};`;
  return [
    `CREATE TRIGGER IF NOT EXISTS sli_minutes_hours_insert AFTER INSERT ON sli_minutes WHEN ${unmarked('NEW')}
       BEGIN INSERT INTO sli_dirty_hours (sli, hour_ts) VALUES (NEW.sli, ${hourOf('NEW')}); END`,
    // A write that changes only updated_at (none does today) leaves the sums as they are.
    `CREATE TRIGGER IF NOT EXISTS sli_minutes_hours_update AFTER UPDATE ON sli_minutes
       WHEN OLD.good IS NOT NEW.good OR OLD.total IS NOT NEW.total OR OLD.sli IS NOT NEW.sli
         OR OLD.minute_ts IS NOT NEW.minute_ts
       BEGIN ${mark('OLD')} ${mark('NEW')} END`,
    `CREATE TRIGGER IF NOT EXISTS sli_minutes_hours_delete AFTER DELETE ON sli_minutes WHEN ${unmarked('OLD')}
       BEGIN INSERT INTO sli_dirty_hours (sli, hour_ts) VALUES (OLD.sli, ${hourOf('OLD')}); END`,
  ];
})();

/**
 * PostgreSQL: statement triggers over transition tables, one insert of the distinct hours per
 * statement (an ingestion batch touches one or two hours per SLI).
 */
function postgresHourTriggers(): string[] {
  const marks: Record<string, { event: string; tables: string; body: string }> = {
    sli_minutes_hours_insert: {
      event: 'INSERT',
      tables: 'NEW TABLE AS new_rows',
      body: `SELECT DISTINCT sli, ${HOUR_OF('minute_ts')} FROM new_rows`,
    },
    // The hours a row left and the hours it is in (ingestion never moves a row; a hand edit might).
    sli_minutes_hours_update: {
      event: 'UPDATE',
      tables: 'OLD TABLE AS old_rows NEW TABLE AS new_rows',
      body: `SELECT sli, ${HOUR_OF('minute_ts')} FROM old_rows UNION SELECT sli, ${HOUR_OF('minute_ts')} FROM new_rows`,
    },
    sli_minutes_hours_delete: {
      event: 'DELETE',
      tables: 'OLD TABLE AS old_rows',
      body: `SELECT DISTINCT sli, ${HOUR_OF('minute_ts')} FROM old_rows`,
    },
  };
  return Object.entries(marks).flatMap(([name, mark]) => [
    `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO sli_dirty_hours (sli, hour_ts) ${mark.body};
       RETURN NULL;
     END $$`,
    `DROP TRIGGER IF EXISTS ${name} ON sli_minutes`,
    `CREATE TRIGGER ${name} AFTER ${mark.event} ON sli_minutes
       REFERENCING ${mark.tables} FOR EACH STATEMENT EXECUTE FUNCTION ${name}()`,
  ]);
}

/** UTC day number of a millisecond column, as both databases compute it in a trigger. */
const DAY_OF = (column: string) => `CAST(${column} / 86400000 AS integer)`;

/**
 * SQLite: row triggers marking the (service, UTC day) summaries a write touches (in-process, so a
 * row each costs little). Only the fields the summaries carry count; a change marks both the day
 * it left and the day it moved to.
 */
const SQLITE_SUMMARY_TRIGGERS = (() => {
  /** Marks (service, day) unless it is already marked: a bulk write leaves one mark per day, not per row. */
  const mark = (service: string, ms: string, when = 'TRUE') =>
    `INSERT INTO delivery_dirty_days (service, day) SELECT ${service}, ${DAY_OF(ms)} WHERE (${when})
       AND NOT EXISTS (SELECT 1 FROM delivery_dirty_days WHERE service = ${service} AND day = ${DAY_OF(ms)});`;
  return [
    `CREATE TRIGGER IF NOT EXISTS deployments_summary_insert AFTER INSERT ON deployments
       WHEN NEW.production = 1
       BEGIN ${mark('NEW.service', 'NEW.finished_at')} END`,
    `CREATE TRIGGER IF NOT EXISTS deployments_summary_update AFTER UPDATE ON deployments
       WHEN (OLD.production = 1 OR NEW.production = 1) AND (OLD.status IS NOT NEW.status OR OLD.kind IS NOT NEW.kind
         OR OLD.finished_at IS NOT NEW.finished_at OR OLD.production IS NOT NEW.production OR OLD.service IS NOT NEW.service)
       BEGIN ${mark('OLD.service', 'OLD.finished_at')} ${mark('NEW.service', 'NEW.finished_at')} END`,
    `CREATE TRIGGER IF NOT EXISTS deployments_summary_delete AFTER DELETE ON deployments
       WHEN OLD.production = 1
       BEGIN ${mark('OLD.service', 'OLD.finished_at')} END`,
    `CREATE TRIGGER IF NOT EXISTS changes_summary_insert AFTER INSERT ON changes
       WHEN NEW.first_deployed_at IS NOT NULL
       BEGIN ${mark('NEW.service', 'NEW.first_deployed_at')} END`,
    `CREATE TRIGGER IF NOT EXISTS changes_summary_update AFTER UPDATE ON changes
       WHEN OLD.first_deployed_at IS NOT NEW.first_deployed_at OR OLD.committed_at IS NOT NEW.committed_at
         OR OLD.service IS NOT NEW.service
       BEGIN
         ${mark('OLD.service', 'OLD.first_deployed_at', 'OLD.first_deployed_at IS NOT NULL')}
         ${mark('NEW.service', 'NEW.first_deployed_at', 'NEW.first_deployed_at IS NOT NULL')}
       END`,
  ];
})();

/** A row of `deployments` whose summarised fields are unchanged by an update (old `o`, new `n`). */
const SAME_DEPLOYMENT = `n.id = o.id AND n.status = o.status AND n.kind = o.kind AND n.finished_at = o.finished_at
  AND n.production = o.production AND n.service = o.service`;
const CHANGE_MOVED = `o.first_deployed_at IS DISTINCT FROM n.first_deployed_at OR o.committed_at IS DISTINCT FROM n.committed_at
  OR o.service IS DISTINCT FROM n.service`;

/**
 * PostgreSQL: statement triggers over transition tables — one insert of the distinct days per
 * statement, not one per row, inside the writer's transaction (ingestion is round-trip bound there).
 */
function postgresSummaryTriggers(): string[] {
  // One function per trigger: a PL/pgSQL statement naming a transition table the trigger does not
  // have fails when it runs, whichever branch it is in.
  const marks: Record<string, { table: string; event: string; tables: string; body: string }> = {
    deployments_summary_insert: {
      table: 'deployments',
      event: 'INSERT',
      tables: 'NEW TABLE AS new_rows',
      body: `SELECT DISTINCT n.service, ${DAY_OF('n.finished_at')} FROM new_rows n WHERE n.production = 1`,
    },
    deployments_summary_update: {
      table: 'deployments',
      event: 'UPDATE',
      tables: 'OLD TABLE AS old_rows NEW TABLE AS new_rows',
      body: `SELECT DISTINCT o.service, ${DAY_OF('o.finished_at')} FROM old_rows o
               WHERE o.production = 1 AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE ${SAME_DEPLOYMENT})
             UNION
             SELECT DISTINCT n.service, ${DAY_OF('n.finished_at')} FROM new_rows n
               WHERE n.production = 1 AND NOT EXISTS (SELECT 1 FROM old_rows o WHERE ${SAME_DEPLOYMENT})`,
    },
    deployments_summary_delete: {
      table: 'deployments',
      event: 'DELETE',
      tables: 'OLD TABLE AS old_rows',
      body: `SELECT DISTINCT o.service, ${DAY_OF('o.finished_at')} FROM old_rows o WHERE o.production = 1`,
    },
    changes_summary_insert: {
      table: 'changes',
      event: 'INSERT',
      tables: 'NEW TABLE AS new_rows',
      body: `SELECT DISTINCT n.service, ${DAY_OF('n.first_deployed_at')} FROM new_rows n
               WHERE n.first_deployed_at IS NOT NULL`,
    },
    changes_summary_update: {
      table: 'changes',
      event: 'UPDATE',
      tables: 'OLD TABLE AS old_rows NEW TABLE AS new_rows',
      body: `SELECT DISTINCT o.service, ${DAY_OF('o.first_deployed_at')} FROM old_rows o
               JOIN new_rows n ON n.service = o.service AND n.sha = o.sha
               WHERE o.first_deployed_at IS NOT NULL AND (${CHANGE_MOVED})
             UNION
             SELECT DISTINCT n.service, ${DAY_OF('n.first_deployed_at')} FROM new_rows n
               JOIN old_rows o ON n.service = o.service AND n.sha = o.sha
               WHERE n.first_deployed_at IS NOT NULL AND (${CHANGE_MOVED})`,
    },
  };
  return Object.entries(marks).flatMap(([name, mark]) => [
    `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO delivery_dirty_days (service, day) ${mark.body};
       RETURN NULL;
     END $$`,
    // Idempotent, as every migration here (PostgreSQL 13 has no CREATE OR REPLACE TRIGGER).
    `DROP TRIGGER IF EXISTS ${name} ON ${mark.table}`,
    `CREATE TRIGGER ${name} AFTER ${mark.event} ON ${mark.table}
       REFERENCING ${mark.tables} FOR EACH STATEMENT EXECUTE FUNCTION ${name}()`,
  ]);
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
  /**
   * Migrations the database has that this version does not know: a newer version migrated it
   * (a rolling upgrade, or a rollback). Nothing ran; see docs/operations.md#upgrades.
   */
  readonly newer?: readonly string[];
}

/** What `migrateToLatest` would do, in order, without doing it (`shinrai migrate --dry-run`). */
export interface MigrationPlan {
  readonly pending: readonly string[];
  readonly applied: readonly string[];
  /** Applied by a newer version (unknown here). */
  readonly newer: readonly string[];
}

/** Reads the migration bookkeeping only; never creates a table. */
export async function migrationPlan(db: Kysely<Database>): Promise<MigrationPlan> {
  const executed = await executedMigrations(db);
  const known = new Set(MIGRATION_NAMES);
  return {
    pending: MIGRATION_NAMES.filter((name) => !executed.has(name)),
    applied: MIGRATION_NAMES.filter((name) => executed.has(name)),
    newer: [...executed].filter((name) => !known.has(name)).sort(),
  };
}

/** Names in Kysely's `kysely_migration` table of the connection's schema; none when it does not exist. */
async function executedMigrations(db: Kysely<Database>): Promise<Set<string>> {
  const exists =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = current_schema() and table_name = 'kysely_migration'`
      : sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' and name = 'kysely_migration'`;
  if ((await exists.execute(db)).rows.length === 0) return new Set();
  const rows = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  return new Set(rows.rows.map((row) => row.name));
}

/**
 * Brings the schema up to date; safe to run from several replicas at once (Kysely locks).
 * A schema a newer version migrated is served as it is when it has every migration this version
 * knows (expand → migrate → contract keeps it readable); Kysely alone would refuse it as corrupted.
 * `upTo` (tests of a migration on the data before it) stops after that migration.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  options: { readonly upTo?: string } = {},
): Promise<MigrationReport> {
  const plan = await migrationPlan(db);
  if (plan.newer.length) {
    if (plan.pending.length)
      throw new Error(
        `the database was migrated by a newer Shinrai (${plan.newer.join(', ')}) but lacks ${plan.pending.join(', ')}: run this version's migrations with the newer one, or restore a backup`,
      );
    return { applied: [], alreadyApplied: plan.applied.length, newer: plan.newer };
  }
  // On PostgreSQL, pin Kysely's bookkeeping tables to the connection's schema: otherwise a
  // kysely_migration table in another schema of the same database is mistaken for ours.
  const migrationTableSchema =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db: migrationTableSchema === undefined ? db : withOwnSchemaIntrospection(db, migrationTableSchema),
    provider,
    migrationTableSchema,
  });
  const { error, results } =
    options.upTo === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(options.upTo);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message}`);
  }
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  return { applied, alreadyApplied: Object.keys(migrations).length - applied.length };
}

/**
 * Kysely finds its bookkeeping tables by listing the tables of every schema in the database; a
 * schema someone else drops during that listing (a neighbour's tests, a tenant removed) fails it
 * with "schema … does not exist" before anything of ours ran. Its migrator only asks whether our
 * schema and our tables exist, so it gets an introspector that looks at our schema alone.
 */
function withOwnSchemaIntrospection(db: Kysely<Database>, schema: string): Kysely<Database> {
  const introspection = {
    getSchemas: async () =>
      (
        await sql<{
          name: string;
        }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db)
      ).rows,
    getTables: async () =>
      (
        await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = ${schema}`.execute(
          db,
        )
      ).rows.map((row) => ({ name: row.name, schema, isView: false, columns: [] })),
    getMetadata: async () => ({ tables: [] }),
  };
  // Kysely keeps its state in private fields, so every other member is taken from (and bound to) the instance.
  return new Proxy(db, {
    get(target, property) {
      if (property === 'introspection') return introspection;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The names of all migrations, in order. */
export const MIGRATION_NAMES = Object.keys(migrations).sort();
