/**
 * SMTP (adapter over nodemailer): `smtp.url` (smtp:// with STARTTLS, smtps:// with TLS, auth from
 * the URL or `smtp.user`/`smtp.password`) and `smtp.from`. Every connection obeys egress.allow: the
 * server's name is resolved here, each address checked, and nodemailer connects to an allowed one
 * (TLS still verifies the certificate against the name). A failed send is described by its SMTP
 * code and nodemailer's error code only: a server's reply text (which may quote addresses or
 * credentials) is never logged or stored. docs/email.md.
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Config } from './config.js';
import { checkEgress, type EgressPolicy } from './egress.js';

/** One mail as queued: both parts are always present (HTML and plain text). */
export interface MailMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Extra headers, e.g. List-Unsubscribe. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Files sent with the mail (a scheduled report's PDF or Markdown), base64 so the outbox keeps them as JSON. */
  readonly attachments?:
    | ReadonlyArray<{
        readonly filename: string;
        readonly contentType: string;
        readonly contentBase64: string;
      }>
    | undefined;
}

export type SendOutcome =
  | { readonly ok: true }
  /** `permanent`: the server refused for good (5xx, bad address): retrying would not help. */
  | { readonly ok: false; readonly permanent: boolean; readonly error: string };

export interface SmtpEndpoint {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** Reads `smtp.url` with `smtp.user`/`smtp.password` overriding the URL's credentials. */
export function smtpEndpoint(config: Config['smtp']): SmtpEndpoint | undefined {
  if (!config.url) return undefined;
  const url = new URL(config.url);
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    secure,
    host,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    user: config.user || decodeURIComponent(url.username),
    password: config.password || decodeURIComponent(url.password),
  };
}

/** The Message-ID of a logical mail: the same for every attempt, so a resent copy can be recognised. */
export function messageIdOf(mailId: string, from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'shinrai.invalid';
  return `<${createHash('sha256').update(mailId).digest('hex').slice(0, 32)}@${domain}>`;
}

type Lookup = (
  hostname: string,
  options: { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface MailerOptions {
  readonly config: Config['smtp'];
  readonly egress: EgressPolicy;
  /** DNS resolution (default: the system resolver). */
  readonly lookup?: Lookup | undefined;
  /** Called when egress.allow refuses the SMTP server (for /metrics). */
  readonly onRefused?: (() => void) | undefined;
}

/** Sends mail through the configured SMTP server; one connection per send. */
export class Mailer {
  private readonly endpoint: SmtpEndpoint;
  private readonly lookup: Lookup;
  /** The system's CAs plus smtp.caFile's, when it is set. */
  private readonly ca: string[] | undefined;

  constructor(private readonly options: MailerOptions) {
    const endpoint = smtpEndpoint(options.config);
    if (!endpoint) throw new Error('smtp.url is not set');
    this.endpoint = endpoint;
    this.ca = options.config.caFile ? [...rootCertificates, readCa(options.config.caFile)] : undefined;
    this.lookup = options.lookup ?? (dnsLookup as unknown as Lookup);
  }

  get from(): string {
    return this.options.config.from;
  }

  /** Sends one mail; never throws. */
  async send(mailId: string, to: string, message: MailMessage): Promise<SendOutcome> {
    const address = await this.resolve();
    if (!address.ok) {
      if (address.error.startsWith('egress refused')) this.options.onRefused?.();
      return { ok: false, permanent: false, error: address.error };
    }
    const { config } = this.options;
    const timeoutMs = config.timeoutSeconds * 1000;
    const options: SMTPTransport.Options = {
      host: address.address,
      port: this.endpoint.port,
      secure: this.endpoint.secure,
      requireTLS: !this.endpoint.secure && config.starttls === 'required',
      // The certificate is checked against the configured name, not the address connected to.
      tls: {
        ...(isIP(this.endpoint.host) ? {} : { servername: this.endpoint.host }),
        ...(this.ca ? { ca: this.ca } : {}),
      },
      auth: this.endpoint.user ? { user: this.endpoint.user, pass: this.endpoint.password } : undefined,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      logger: false,
      debug: false,
    };
    const transport = nodemailer.createTransport(options);
    try {
      await transport.sendMail({
        from: config.from,
        to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { ...message.headers },
        ...(message.attachments?.length
          ? {
              attachments: message.attachments.map((a) => ({
                filename: a.filename,
                contentType: a.contentType,
                content: a.contentBase64,
                encoding: 'base64',
              })),
            }
          : {}),
        messageId: messageIdOf(mailId, config.from),
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      return { ok: true };
    } catch (error) {
      return describeSmtpError(error);
    } finally {
      transport.close();
    }
  }

  private async resolve(): Promise<{ ok: true; address: string } | { ok: false; error: string }> {
    const { host } = this.endpoint;
    const policy = this.options.egress;
    if (isIP(host)) {
      const decision = checkEgress(policy, '', host);
      return decision.ok ? { ok: true, address: host } : { ok: false, error: decision.reason };
    }
    const addresses = await new Promise<LookupAddress[] | NodeJS.ErrnoException>((resolve) =>
      this.lookup(host, { all: true }, (err, list) => resolve(err ?? list)),
    );
    if (!Array.isArray(addresses))
      return { ok: false, error: `smtp: ${host} could not be resolved (${addresses.code ?? 'DNS error'})` };
    let refusal = `egress refused: ${host} has no address`;
    for (const candidate of addresses) {
      const decision = checkEgress(policy, host, candidate.address);
      if (decision.ok) return { ok: true, address: candidate.address };
      refusal = decision.reason;
    }
    return { ok: false, error: refusal };
  }
}

/**
 * A nodemailer failure as a short message of our own: the SMTP status code and the error code
 * (EAUTH, ECONNECTION, ETIMEDOUT, EENVELOPE…), never the server's reply text.
 */
export function describeSmtpError(error: unknown): SendOutcome & { ok: false } {
  const e = error as { code?: unknown; responseCode?: unknown; command?: unknown };
  const code = typeof e.code === 'string' && /^[A-Z_]{2,40}$/.test(e.code) ? e.code : 'ERROR';
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const command = typeof e.command === 'string' && /^[A-Z ]{2,20}$/.test(e.command) ? e.command : undefined;
  // 5xx is a refusal for good (unknown mailbox, message refused); 4xx and transport errors pass.
  const permanent = status !== undefined && status >= 500 && status < 600 && code !== 'EAUTH';
  const parts = [`smtp ${code}`];
  if (status !== undefined) parts.push(`status ${status}`);
  if (command) parts.push(`after ${command}`);
  return { ok: false, permanent, error: parts.join(', ') };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`smtp.caFile: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
