/** A loopback HTTP listener that records every request, for tests of what Shinrai sends where. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the listener puts in the body of its 500 answers: it must never reach an API answer or a row. */
export const REMOTE_SECRET = 'REMOTE-BODY-SECRET-a8b2';

export interface Recorded {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback listener that records every request: a Prometheus at /disk, /cfg, /up; 500 with a secret body at /fail*. */
export class Listener {
  readonly requests: Recorded[] = [];
  private server: Server | undefined;
  port = 0;

  async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        this.requests.push({ url: req.url ?? '', headers: req.headers, body });
        if (req.url?.startsWith('/fail')) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${REMOTE_SECRET} root:x:0:0`);
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every byte the listener received, to search for stolen values. */
  received(): string {
    return JSON.stringify(this.requests);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
