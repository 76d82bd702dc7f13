/** A real SMTP server (the smtp-server package) on a loopback port, keeping every message it takes. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface TestSmtp {
  readonly port: number;
  /** Raw messages (headers and body) in arrival order, with their envelope recipients. */
  readonly messages: Array<{ readonly to: string[]; readonly raw: string }>;
  close(): Promise<void>;
}

export async function startSmtp(
  options: {
    port?: number;
    /** Require this user and password (AUTH PLAIN/LOGIN without TLS, loopback only). */
    auth?: { user: string; password: string };
    /** Refuse these recipients with a 550 whose text must never reach our logs. */
    refuse?: readonly string[];
  } = {},
): Promise<TestSmtp> {
  const messages: Array<{ to: string[]; raw: string }> = [];
  const server = new SMTPServer({
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.password)
        return callback(null, { user: auth.username });
      return callback(new Error('bad credentials'));
    },
    onRcptTo(address, _session, callback) {
      if (options.refuse?.includes(address.address)) {
        const error = new Error('SECRET-REMOTE-REPLY mailbox unknown') as Error & { responseCode: number };
        error.responseCode = 550;
        return callback(error);
      }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded text of a quoted-printable body part (what a mail client shows). */
export function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
