/**
 * Notification targets configured on the server (`notificationTargets.<name>` in the config file
 * only): where alerts go and the secret that signs them. Specs — uploaded ones included — name
 * them with `targetRef: <name>` or `alerting.notify`; `${ENV}` in url and secret is expanded at
 * delivery, like targets in spec files on the server's disk.
 */
import { z } from 'zod';

/** The kinds of target Shinrai delivers to. */
export const TARGET_KINDS = ['webhook', 'slack', 'alertmanager', 'teams'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** The languages a target's messages may be written in (`teams` cards; the others are English). */
export const TARGET_LANGUAGES = ['en', 'ja'] as const;
export type TargetLanguage = (typeof TARGET_LANGUAGES)[number];

/** An http(s) URL, or one that starts with a `${VAR}` (Slack's and Teams' webhook URLs are secrets). */
export const TARGET_URL = /^(https?:\/\/\S+|\$\{[A-Za-z_][A-Za-z0-9_]*\}\S*)$/i;

/** Names of configured targets (`notificationTargets.<name>`), as connection names. */
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export const configuredTargetSchema = z
  .strictObject({
    target: z.enum(TARGET_KINDS, { error: `must be one of ${TARGET_KINDS.join(', ')}` }),
    url: z
      .string()
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax, quoted to the reader
      .regex(TARGET_URL, 'must be an http:// or https:// URL (it may start with a ${VAR} reference)'),
    /** HMAC-SHA256 key of the signature of each body (`X-Shinrai-Signature`); may be `${VAR}`. */
    secret: z.string().min(1, 'must not be empty (leave it out to send unsigned)').optional(),
    /** The language of a `teams` card (English when not given). */
    language: z.enum(TARGET_LANGUAGES, { error: `must be one of ${TARGET_LANGUAGES.join(', ')}` }).optional(),
  })
  .refine((t) => t.language === undefined || t.target === 'teams', {
    path: ['language'],
    message: 'is only for target: teams (the other kinds are sent in English)',
  });

export type ConfiguredTarget = z.output<typeof configuredTargetSchema>;

/** What the spec loader is told about a configured target: its name and kind, never url or secret. */
export interface ConfiguredTargetName {
  readonly name: string;
  readonly kind: TargetKind;
}

/** The names and kinds of configured targets, for the spec loader. */
export function configuredTargetNames(
  targets: Readonly<Record<string, ConfiguredTarget>>,
): ConfiguredTargetName[] {
  return Object.entries(targets).map(([name, t]) => ({ name, kind: t.target }));
}
