/** A real SMTP server (the smtp-server package) on a loopback port, keeping every message it takes. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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
    /** Offer STARTTLS with this key and certificate, or (secure) speak TLS from the first byte. */
    tls?: { key: string; cert: string; secure?: boolean };
  } = {},
): Promise<TestSmtp> {
  const messages: Array<{ to: string[]; raw: string }> = [];
  const disabled = [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])];
  const server = new SMTPServer({
    disabledCommands: disabled,
    ...(options.tls
      ? { key: options.tls.key, cert: options.tls.cert, secure: options.tls.secure ?? false }
      : {}),
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

/** A self-signed certificate for `localhost` (made with openssl), and its files in `dir`. */
export function selfSignedCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}
