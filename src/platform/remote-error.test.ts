// Unit tests of the summaries of remote failures: status and reason, never bodies or credentials.
import { describe, expect, it } from 'vitest';
import { EgressRefusedError } from './egress.js';
import { describeStatus, describeTransportError, describeUrl } from './remote-error.js';

describe('describeStatus', () => {
  it('gives the status and its reason phrase', () => {
    expect(describeStatus(503)).toBe('HTTP 503 Service Unavailable');
    expect(describeStatus(500)).toBe('HTTP 500 Internal Server Error');
    expect(describeStatus(599)).toBe('HTTP 599');
  });
});

describe('describeUrl', () => {
  it('keeps scheme, host and port only', () => {
    expect(describeUrl('https://user:pa55@prom.example:9443/select/0?key=SECRET#x')).toBe(
      'https://prom.example:9443',
    );
    expect(describeUrl('not a url SECRET')).toBe('an invalid URL');
  });
});

describe('describeTransportError', () => {
  const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
  it('names the kind of failure without the exception text', () => {
    const leaky = 'connect ECONNREFUSED http://user:SECRET@host/?token=SECRET';
    expect(describeTransportError(errno('ECONNREFUSED', leaky))).toEqual({
      kind: 'unreachable',
      message: 'connection refused',
    });
    expect(
      describeTransportError(new TypeError('fetch failed', { cause: errno('ENOTFOUND', leaky) })),
    ).toEqual({
      kind: 'unreachable',
      message: 'host not found',
    });
    expect(describeTransportError(Object.assign(new Error(leaky), { name: 'TimeoutError' }), 30_000)).toEqual(
      {
        kind: 'timeout',
        message: 'timeout after 30 s',
      },
    );
    expect(describeTransportError(errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE', leaky)).kind).toBe('tls');
    expect(describeTransportError(errno('ESOMETHING', leaky)).message).toBe('connection failed (ESOMETHING)');
    expect(describeTransportError(errno(`x ${leaky}`, leaky)).message).toBe('connection failed');
    expect(describeTransportError('SECRET').message).toBe('connection failed');
  });

  it('passes an egress refusal through, found under a cause', () => {
    const refusal = new EgressRefusedError('egress refused: 169.254.169.254 is not allowed by egress.allow');
    expect(describeTransportError(new Error('wrapped', { cause: refusal }))).toEqual({
      kind: 'egress',
      message: refusal.message,
    });
  });
});
