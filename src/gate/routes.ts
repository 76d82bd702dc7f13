/** The deploy gate over HTTP: the answer for a service, and overrides recorded for audit. */
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../platform/audit/index.js';
import { AppError } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import { fixedDurationMs, parseDuration } from '../slo/index.js';
import { GATE_BASES, GATE_DECISIONS, type GateAnswer, type GateOverride } from './decide.js';
import { createOverride, type GateDeps, gateFor, listOverrides, revokeOverride } from './service.js';

const stepSchema = z.object({ below: z.number(), action: z.string(), gate: z.enum(GATE_DECISIONS) });

const overrideSchema = z.object({
  id: z.string(),
  service: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
  active: z.boolean(),
});

const answerSchema = z.object({
  service: z.string(),
  decision: z.enum(GATE_DECISIONS).describe('allow and warn: go ahead (exit 0); deny: stop (exit 1)'),
  policyDecision: z.enum(GATE_DECISIONS).describe('what the policy alone says, before an override'),
  summary: z.string().describe('one line for a CI log'),
  reasons: z.array(
    z.object({
      slo: z.string(),
      decision: z.enum(GATE_DECISIONS),
      remaining: z.number().nullable(),
      step: stepSchema.optional(),
      basis: z
        .enum(GATE_BASES)
        .describe(
          'no-data; policy-step (a step in force); no-step; no-policy (budget left); no-policy-exhausted (warns)',
        ),
      doubt: z
        .enum(['not-evaluated', 'stale', 'data', 'error'])
        .optional()
        .describe('why the budget figure may not be current'),
      message: z.string(),
    }),
  ),
  override: overrideSchema.optional(),
  at: z.string(),
});

const iso = (ms: number) => new Date(ms).toISOString();

function overrideView(o: GateOverride, nowMs: number): z.output<typeof overrideSchema> {
  return {
    id: o.id,
    service: o.service,
    reason: o.reason,
    createdBy: o.createdBy,
    createdAt: iso(o.createdAtMs),
    expiresAt: iso(o.expiresAtMs),
    ...(o.revokedAtMs === undefined ? {} : { revokedAt: iso(o.revokedAtMs), revokedBy: o.revokedBy ?? '' }),
    active: o.revokedAtMs === undefined && o.expiresAtMs > nowMs,
  };
}

function answerView(a: GateAnswer, nowMs: number): z.output<typeof answerSchema> {
  return {
    service: a.service,
    decision: a.decision,
    policyDecision: a.policyDecision,
    summary: a.summary,
    reasons: a.reasons.map((r) => ({ ...r })),
    ...(a.override ? { override: overrideView(a.override, nowMs) } : {}),
    at: iso(nowMs),
  };
}

export function gateRoutes(deps: GateDeps) {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const actor = (request: { principal?: { name: string } | undefined }) =>
      request.principal?.name ?? 'anonymous';

    api.get(
      '/api/v1/gate',
      {
        schema: {
          tags: ['gate'],
          summary: "May this service ship now? allow / warn / deny from its SLOs' error-budget policies",
          querystring: z.object({ service: z.string().min(1).max(200) }),
          response: { 200: answerSchema },
        },
      },
      async (request) => answerView(await gateFor(deps, request.query.service), deps.clock.now()),
    );

    api.post(
      '/api/v1/gate/overrides',
      {
        // Letting a change through a freeze is a decision for a person with authority, not for
        // the CI token (editor) the gate is meant to stop.
        config: { minRole: 'admin' },
        schema: {
          tags: ['gate'],
          summary:
            'Let changes to a service through the gate until an expiry (at most 7 days), with a reason',
          body: z
            .strictObject({
              service: z.string().min(1).max(200),
              reason: z.string().trim().min(3).max(2000),
              expiresAt: z.iso.datetime({ offset: true }).optional(),
              expiresIn: z.string().optional().describe('instead of expiresAt: a duration such as 2h or 1d'),
            })
            .refine((b) => (b.expiresAt === undefined) !== (b.expiresIn === undefined), {
              message: 'give exactly one of expiresAt or expiresIn',
              path: ['expiresAt'],
            }),
          response: { 201: overrideSchema },
        },
      },
      async (request, reply) => {
        const { service, reason, expiresAt, expiresIn } = request.body;
        const nowMs = deps.clock.now();
        let expiresAtMs: number;
        if (expiresAt !== undefined) expiresAtMs = Date.parse(expiresAt);
        else {
          const parsed = parseDuration(expiresIn ?? '');
          const ms = parsed.ok ? fixedDurationMs(parsed.value) : undefined;
          if (ms === undefined)
            throw new AppError('Invalid', `expiresIn: ${parsed.ok ? 'use m, h, d or w' : parsed.error}`, [
              { field: 'expiresIn', message: 'a duration such as 2h or 1d' },
            ]);
          expiresAtMs = nowMs + ms;
        }
        const created = await createOverride(
          deps,
          { service, reason, expiresAtMs },
          actor(request),
          actorOf(request),
        );
        return reply.code(201).send(overrideView(created, nowMs));
      },
    );

    api.get(
      '/api/v1/gate/overrides',
      {
        schema: {
          tags: ['gate'],
          summary: 'Overrides, newest first (expired and revoked ones too: the audit trail)',
          querystring: z.object({
            service: z.string().max(200).optional(),
            active: z.stringbool().optional().describe('true: only overrides in force now'),
          }),
          response: { 200: z.array(overrideSchema) },
        },
      },
      async (request) => {
        const nowMs = deps.clock.now();
        const list = await listOverrides(deps, {
          service: request.query.service,
          activeOnly: request.query.active,
        });
        return list.map((o) => overrideView(o, nowMs));
      },
    );

    api.delete(
      '/api/v1/gate/overrides/:id',
      {
        config: { minRole: 'admin' },
        schema: {
          tags: ['gate'],
          summary: 'End an override now (the record stays, with who revoked it)',
          params: z.object({ id: z.string().max(100) }),
          response: { 200: overrideSchema },
        },
      },
      async (request) =>
        overrideView(
          await revokeOverride(deps, request.params.id, actor(request), actorOf(request)),
          deps.clock.now(),
        ),
    );
  };
}
