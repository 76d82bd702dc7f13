/**
 * The public face of `platform/db/` (connection, migrations, table types); other folders import only
 * this file. Route modules and CLI commands import none of it: they call a service.
 */
export { type BackupProgress, backupSqlite, MaintenanceError, restoreSqlite } from './backup.js';
export {
  DatabaseMissingError,
  type Db,
  dialectOf,
  isUniqueViolation,
  openDatabase,
  ping,
} from './database.js';
export { HOUR_OF, HOUR_SUMS, type MigrationPlan, migrateToLatest, migrationPlan } from './migrations.js';
export {
  DEFAULT_PARTITION,
  type EnsureReport,
  ensureWeekPartitions,
  isPartitioned,
  listPartitions,
  type MinutePartition,
  pgCode,
  setLockTimeout,
  WEEK_MS,
  weekStart,
} from './partitions.js';
export type {
  ActionItemTable,
  AuditEventTable,
  ChangeTable,
  Database,
  DeploymentTable,
  GateOverrideTable,
  MailOutboxTable,
  NotificationOutboxTable,
  PostmortemTable,
  SlackOutboxTable,
  SloHistoryTable,
  SloStatusTable,
  SourceCursorTable,
} from './schema.js';
