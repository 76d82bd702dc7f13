/**
 * Empty request bodies: no body, `Content-Length: 0`, a blank JSON body or JSON `null` mean "no
 * fields", so a route whose body is a JSON object reads them as `{}` — its optional fields take
 * their defaults and missing required ones are named in the 400 — instead of "expected object,
 * received null" or Fastify's "Body cannot be empty when content-type is set to 'application/json'".
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalid } from '../errors.js';
import { nulPath } from './nul-text.js';

export function acceptEmptyBodies(app: FastifyInstance): void {
  // Fastify's own parser (prototype-poisoning checks and the body limit included) for any
  // non-blank JSON; a blank body is "no body" rather than a JSON syntax error.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, (error, value) => {
      if (error) return done(error, undefined);
      const at = nulPath(value, text);
      if (at) return done(invalid(`${at}: text may not contain the NUL character (\\u0000)`), undefined);
      done(null, value);
    });
  });

  app.addHook('preValidation', async (request) => {
    if (request.body !== undefined && request.body !== null) return;
    if (isObjectSchema(request.routeOptions.schema?.body)) request.body = {};
  });
}

/** The body schema describes a JSON object, possibly behind a default, optional or pipe. */
export function isObjectSchema(schema: unknown): boolean {
  let current: unknown = schema;
  // Wrappers nest a few levels at most; the bound only guards against a cyclic definition.
  for (let depth = 0; depth < 16 && current instanceof z.ZodType; depth++) {
    const def = current._zod.def as { type: string; innerType?: unknown; in?: unknown };
    if (def.type === 'object') return true;
    current = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
  }
  return false;
}

type OpenApiDocument = { paths?: Record<string, Record<string, unknown>> };
type RequestBody = { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
type JsonSchema = { type?: unknown; required?: unknown };

/**
 * The OpenAPI document says a request body is optional where an empty body is accepted: a JSON
 * object none of whose properties is required (@fastify/swagger marks every body required).
 */
export function markOptionalBodies<T extends object>(document: T): T {
  for (const operations of Object.values((document as OpenApiDocument).paths ?? {}))
    for (const operation of Object.values(operations)) {
      const body = (operation as { requestBody?: RequestBody } | undefined)?.requestBody;
      const schema = body?.content?.['application/json']?.schema;
      if (!body || !schema || schema.type !== 'object') continue;
      if (!Array.isArray(schema.required) || schema.required.length === 0) body.required = false;
    }
  return document;
}
