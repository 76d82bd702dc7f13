/**
 * Trust by origin (pure): objects in spec files on the server's disk may define connections and
 * secrets (URLs with credentials, `*File` paths, `${ENV}` references); objects uploaded through
 * the API (files named `api:…`) may not — they arrive over the network, and whatever they name the
 * server would read or call. An uploaded spec may only *name* what the server configures: a
 * connection (`connectionDetails: { connection: <name> }`) or a notification target configured
 * under `notificationTargets.<name>` or in the spec directory (`targetRef`). The loader refuses the
 * rest object by object; PUT /api/v1/specs refuses the whole upload before storing it. docs/api.md,
 * docs/validation-rules.md.
 */
import { parseConnectionDetails } from '../../platform/connections.js';
import type { SourceLocation } from '../model.js';
import { Checker } from './check.js';
import type { Diagnostic } from './diagnostics.js';
import { type PathSegment, parseSpecText } from './documents.js';

/** Uploaded files live under this prefix in diagnostics, apart from files on disk. */
export const UPLOAD_PREFIX = 'api:';

/** True for a file (or a definition's location) that came through the API, not from the server's disk. */
export function isUploaded(where: string | SourceLocation): boolean {
  return (typeof where === 'string' ? where : where.file).startsWith(UPLOAD_PREFIX);
}

/** Where secrets and connections are configured instead; every refusal says it. */
export const CONFIGURE_ON_SERVER =
  'connections and secrets are configured on the server: notificationTargets.<name> and ' +
  'connections.<name> in the config file, or DataSources and AlertNotificationTargets in the spec directory (specs.path), ' +
  'named from uploads with `connection: <name>`, metricSourceRef or targetRef';

/** Annotations that say where and how to deliver a notification: server-side only. */
const DELIVERY_ANNOTATIONS = ['shinrai.dev/url', 'shinrai.dev/secret'];
const ENV_REFERENCE = /\$\{/;
/** A key naming a file to read (bearerTokenFile, passwordFile, tlsCaFile, ca_file…). */
const FILE_KEY = /file$/i;
/** A URL with a user or password before the host. */
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i;

/**
 * Reports (as errors on `checker`) everything an uploaded object may not contain. Only what the
 * server resolves is checked — `connectionDetails` (files, `${ENV}`, credentials) and the delivery
 * annotations — so a label such as `profile` or a `${…}` in a description stays ordinary text.
 */
export function checkUploadedObject(checker: Checker): void {
  const walk = (value: unknown, path: PathSegment[], resolved: boolean): void => {
    if (typeof value === 'string') {
      if (!resolved) return;
      if (ENV_REFERENCE.test(value))
        checker.error(
          path,
          'upload/env-reference',
          `${describe(path)}: \${…} environment references are not read from specs uploaded through the API`,
          CONFIGURE_ON_SERVER,
        );
      else if (URL_WITH_CREDENTIALS.test(value.trim()))
        checker.error(
          path,
          'upload/credentials',
          `${describe(path)}: a URL with credentials is not accepted in specs uploaded through the API`,
          CONFIGURE_ON_SERVER,
        );
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, [...path, i], resolved);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      const at = [...path, key];
      if (resolved && FILE_KEY.test(key))
        checker.report(at, {
          rule: 'upload/file-reference',
          message: `${describe(at)}: files on the server are not read for specs uploaded through the API`,
          hint: CONFIGURE_ON_SERVER,
          atKey: true,
        });
      else if (DELIVERY_ANNOTATIONS.includes(key))
        checker.report(at, {
          rule: 'upload/notification-target',
          message: `${key}: an uploaded AlertNotificationTarget may not say where to deliver; configure the target on the server (notificationTargets.<name> in the config file, or the spec directory, specs.path) and name it with targetRef or alerting.notify`,
          hint: CONFIGURE_ON_SERVER,
          atKey: true,
        });
      else if (key === 'connectionDetails' && !parseConnectionDetails(item, { uploaded: true }).ok)
        checker.report(at, {
          rule: 'upload/connection',
          message:
            'connectionDetails: a DataSource uploaded through the API may only name a connection configured on the server: `connectionDetails: { connection: <name> }`',
          hint: CONFIGURE_ON_SERVER,
          atKey: true,
        });
      walk(item, at, resolved || key === 'connectionDetails');
    }
  };
  walk(checker.object.value, [], false);
}

function describe(path: readonly PathSegment[]): string {
  return path.length
    ? path
        .map((p) => (typeof p === 'number' ? `[${p}]` : p))
        .join('.')
        .replace(/\.\[/g, '[')
    : 'value';
}

/**
 * The trust errors of uploaded texts (syntax errors are left to the loader), for refusing an
 * upload before anything is stored.
 */
export function checkUploadedTexts(
  texts: readonly { readonly file: string; readonly text: string }[],
  parse = parseSpecText,
): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const { file, text } of texts)
    for (const object of parse(file, text).objects) {
      const checker = new Checker(object);
      checkUploadedObject(checker);
      found.push(...checker.diagnostics);
    }
  return found;
}
