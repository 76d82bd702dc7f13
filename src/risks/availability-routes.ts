/** The availability calculator over HTTP: a dependency graph in, what the service can reach out. */

import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid } from '../platform/errors.js';
import type { App } from '../platform/http/index.js';
import { calculateAvailability } from './availability.js';
import { calcInputSchema, fieldName, toModel } from './availability-input.js';

const fraction = z.number().min(0).max(1);

export const availabilityResultSchema = z.object({
  availability: fraction.describe('own × dependencies'),
  unavailability: fraction,
  dependencyAvailability: fraction.describe('the best achievable: what the dependencies allow'),
  own: fraction,
  downtimeMinutesPer30Days: z.number(),
  downtimeMinutesPerYear: z.number().describe('a year of 525,960 minutes'),
  target: z
    .object({
      target: fraction,
      achievable: z.boolean(),
      margin: z.number().describe('availability − target; negative when short'),
      requiredOwnAvailability: fraction
        .nullable()
        .describe('own availability needed on these dependencies; null when even 100% is not enough'),
    })
    .nullable(),
  components: z
    .array(
      z.object({
        id: z.string(),
        availability: fraction,
        replicas: z.int(),
        required: z.int(),
        effectiveAvailability: fraction.describe('the replica set, k of n'),
        availabilityIfPerfect: fraction,
        downtimeMinutesPerYearSaved: z.number(),
        shareOfDowntime: fraction,
      }),
    )
    .describe('what to improve first: most downtime saved if the component never failed'),
  sharedComponents: z.array(z.string()),
  unusedComponents: z.array(z.string()),
});

export function availabilityRoutes() {
  return (app: App) => {
    const api = app.withTypeProvider<ZodTypeProvider>();

    api.post(
      '/api/v1/calc/availability',
      {
        // A pure computation: it reads and stores nothing, so anyone who may read may ask.
        config: { minRole: 'viewer', expensive: true },
        schema: {
          tags: ['calculator'],
          summary: 'What a service can reach on its dependencies (serial, parallel, k of n)',
          description:
            'Components with availabilities, a dependency expression for the service, an optional target. Needs the viewer role: it stores nothing.',
          body: calcInputSchema,
          response: { 200: availabilityResultSchema },
        },
      },
      async (request) => {
        const outcome = calculateAvailability(toModel(request.body));
        if (!outcome.ok)
          throw invalid(
            `invalid body: ${outcome.issues.map((i) => `${fieldName(i.path) ?? 'body'}: ${i.message}`).join('; ')}`,
            outcome.issues.map((i) => ({ field: fieldName(i.path), message: i.message })),
          );
        const { components, sharedComponents, unusedComponents } = outcome.result;
        return {
          ...outcome.result,
          components: [...components],
          sharedComponents: [...sharedComponents],
          unusedComponents: [...unusedComponents],
        };
      },
    );
  };
}
