import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isObjectSchema, markOptionalBodies } from './empty-body.js';

describe('isObjectSchema', () => {
  it('sees an object behind defaults, optionals, refinements and pipes', () => {
    const object = z.strictObject({ a: z.string().optional() });
    expect(isObjectSchema(object)).toBe(true);
    expect(isObjectSchema(object.default({}))).toBe(true);
    expect(isObjectSchema(object.optional().nullable())).toBe(true);
    expect(isObjectSchema(object.refine((b) => b.a !== 'x'))).toBe(true);
    expect(isObjectSchema(object.transform((b) => b.a))).toBe(true);
  });

  it('leaves arrays, strings, plain JSON schemas and no schema alone', () => {
    expect(isObjectSchema(z.array(z.string()))).toBe(false);
    expect(isObjectSchema(z.string().default(''))).toBe(false);
    expect(isObjectSchema({ type: 'object' })).toBe(false);
    expect(isObjectSchema(undefined)).toBe(false);
  });
});

describe('markOptionalBodies', () => {
  it('marks object bodies without required properties optional and keeps the others required', () => {
    const body = (schema: object) => ({
      requestBody: { required: true, content: { 'application/json': { schema } } },
    });
    const document = markOptionalBodies({
      paths: {
        '/a': { post: body({ type: 'object', properties: { x: {} } }) },
        '/b': { post: body({ type: 'object', required: ['x'] }) },
        '/c': { post: body({ type: 'array' }) },
        '/d': { get: {} },
      },
    });
    expect(document.paths['/a'].post.requestBody.required).toBe(false);
    expect(document.paths['/b'].post.requestBody.required).toBe(true);
    expect(document.paths['/c'].post.requestBody.required).toBe(true);
  });
});
