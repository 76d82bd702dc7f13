/** The generic deployment webhook: plain JSON, CloudEvents (structured and binary) and CDEvents. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOUDEVENTS_JSON, interpretGeneric } from './cloudevents.js';

const noHeaders = () => undefined;
const data = {
  service: 'checkout',
  environment: 'production',
  status: 'Succeeded',
  finishedAt: '2026-11-02T10:15:00+09:00',
  startedAt: '2026-11-02T10:10:00+09:00',
  version: 'v42',
  headSha: 'ABCDEF1234567890abcdef1234567890abcdef12',
  commits: [
    { sha: 'abcdef1234567890abcdef1234567890abcdef12', timestamp: '2026-11-01T09:00:00Z', author: 'kei' },
  ],
  url: 'https://argocd.example.com/applications/checkout',
  kind: 'hotfix',
  fixes: ['INC-4'],
};

describe('interpretGeneric', () => {
  it('reads plain JSON with the fields of POST /api/v1/deployments, Argo CD phase words included', () => {
    const { interpretation, deliveryKey } = interpretGeneric({
      mediaType: 'application/json',
      header: (name) => (name === 'idempotency-key' ? 'argo-1' : undefined),
      body: data,
    });
    expect(deliveryKey).toBe('argo-1');
    expect(interpretation).toEqual({
      ok: true,
      action: {
        kind: 'deployment',
        deployment: {
          id: 'argo-1',
          service: 'checkout',
          environment: 'production',
          version: 'v42',
          headSha: 'abcdef1234567890abcdef1234567890abcdef12',
          commits: [
            {
              sha: 'abcdef1234567890abcdef1234567890abcdef12',
              committedAtMs: Date.parse('2026-11-01T09:00:00Z'),
              author: 'kei',
              message: undefined,
            },
          ],
          startedAtMs: Date.parse('2026-11-02T01:10:00Z'),
          finishedAtMs: Date.parse('2026-11-02T01:15:00Z'),
          status: 'success',
          kind: 'hotfix',
          url: 'https://argocd.example.com/applications/checkout',
          fixes: ['INC-4'],
        },
      },
    });
  });

  it('names every missing or invalid field of plain JSON in one 400', () => {
    const { interpretation } = interpretGeneric({
      mediaType: 'application/json',
      header: noHeaders,
      body: { status: 'failed', kind: 'weekly', url: 'javascript:alert(1)', commits: [{ sha: 'zz' }] },
    });
    expect(interpretation).toEqual({
      ok: false,
      error:
        'missing or invalid: service (1–200 characters), environment (1–200 characters), finishedAt (an RFC 3339 timestamp), kind (normal, hotfix or rollback), url (an http or https URL), commits[0] (sha and an RFC 3339 timestamp)',
    });
    expect(
      interpretGeneric({ mediaType: undefined, header: noHeaders, body: { ...data, status: 'Running' } }),
    ).toEqual({
      interpretation: { ok: true, action: { kind: 'ignore', reason: 'running: not finished yet' } },
      deliveryKey: undefined,
    });
    expect(
      interpretGeneric({ mediaType: undefined, header: noHeaders, body: { ...data, status: 'maybe' } })
        .interpretation.ok,
    ).toBe(false);
  });

  it('reads a structured CloudEvent: time is the default finish, id + source the delivery key and the deployment id', () => {
    const { finishedAt: _, ...rest } = data;
    const event = {
      specversion: '1.0',
      id: 'e-1',
      source: '/argocd',
      type: 'io.argoproj.sync',
      time: '2026-11-02T01:20:00Z',
      data: rest,
    };
    const first = interpretGeneric({ mediaType: CLOUDEVENTS_JSON, header: noHeaders, body: event });
    expect(first.deliveryKey).toBe('/argocd\ne-1');
    expect(first.interpretation).toMatchObject({
      ok: true,
      action: {
        kind: 'deployment',
        deployment: { finishedAtMs: Date.parse('2026-11-02T01:20:00Z'), service: 'checkout' },
      },
    });
    const again = interpretGeneric({ mediaType: CLOUDEVENTS_JSON, header: noHeaders, body: event });
    const id = (r: typeof first) =>
      r.interpretation.ok && r.interpretation.action.kind === 'deployment'
        ? r.interpretation.action.deployment.id
        : '';
    expect(id(again)).toBe(id(first));
    expect(id(first)).toMatch(/^webhook:[0-9a-f]{32}$/);
  });

  it('reads a binary-mode CloudEvent from ce-* headers', () => {
    const headers: Record<string, string> = {
      'ce-specversion': '1.0',
      'ce-id': 'b-1',
      'ce-source': 'ci',
      'ce-type': 'deploy',
    };
    const result = interpretGeneric({ mediaType: 'application/json', header: (n) => headers[n], body: data });
    expect(result.deliveryKey).toBe('ci\nb-1');
    expect(result.interpretation).toMatchObject({ ok: true, action: { kind: 'deployment' } });
  });

  it('refuses bad CloudEvents and ignores events that are not deployments', () => {
    const bad = (body: unknown) =>
      interpretGeneric({ mediaType: CLOUDEVENTS_JSON, header: noHeaders, body }).interpretation;
    expect(bad({ specversion: '0.3', id: 'x', source: 's', type: 't' })).toMatchObject({ ok: false });
    expect(bad({ specversion: '1.0', source: 's', type: 't' })).toMatchObject({ ok: false });
    expect(bad({ specversion: '1.0', id: 'x', source: 's', type: 't', time: 'yesterday' })).toMatchObject({
      ok: false,
    });
    expect(bad({ specversion: '1.0', id: 'x', source: 's', type: 't', data_base64: 'e30=' })).toMatchObject({
      ok: false,
    });
    expect(
      bad({ specversion: '1.0', id: 'x', source: 's', type: 'com.example.build', data: { tests: 4 } }),
    ).toMatchObject({
      ok: true,
      action: { kind: 'ignore' },
    });
    expect(
      interpretGeneric({ mediaType: 'application/cloudevents-batch+json', header: noHeaders, body: [] })
        .interpretation.ok,
    ).toBe(false);
  });

  it('reads CDEvents service.deployed and service.rolledback', () => {
    const cdevent = (type: string) => ({
      specversion: '1.0',
      id: 'c-1',
      source: '/spinnaker',
      type,
      data: {
        context: { id: 'c-1', timestamp: '2026-11-02T01:30:00Z' },
        subject: {
          id: 'service/checkout',
          content: { environment: { id: 'production' }, artifactId: 'pkg:oci/checkout@sha256:0a' },
        },
      },
    });
    const read = (type: string) =>
      interpretGeneric({ mediaType: CLOUDEVENTS_JSON, header: noHeaders, body: cdevent(type) })
        .interpretation;
    expect(read('dev.cdevents.service.deployed.0.1.1')).toMatchObject({
      ok: true,
      action: {
        deployment: {
          service: 'checkout',
          environment: 'production',
          version: 'pkg:oci/checkout@sha256:0a',
          status: 'success',
          finishedAtMs: Date.parse('2026-11-02T01:30:00Z'),
        },
      },
    });
    expect(read('dev.cdevents.service.rolledback.0.1.1')).toMatchObject({
      action: { deployment: { kind: 'rollback' } },
    });
    expect(read('dev.cdevents.pipelinerun.started.0.1.1')).toMatchObject({ action: { kind: 'ignore' } });
  });

  it('never throws, whatever the JSON and headers', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(undefined, 'application/json', CLOUDEVENTS_JSON),
        fc.dictionary(
          fc.constantFrom('ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-time', 'idempotency-key'),
          fc.string(),
        ),
        fc.jsonValue(),
        (mediaType, headers, body) => {
          interpretGeneric({ mediaType, header: (n) => headers[n], body });
        },
      ),
    );
  });
});
