import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { regexes } from 'zod/v4/core';
import { ISO_DATETIME } from '../../shared/events/envelope-check.ts';
import { checkHttpEvent } from '../../shared/events/http.ts';
import { checkJobMessage } from '../../shared/events/job.ts';
import { parseWith } from '../../shared/events/parse.ts';
import { checkTimerEvent } from '../../shared/events/timer.ts';
import { type Issue, ParseError } from '../../shared/runtime/errors.ts';
import { fixture, mutate } from '../helpers.ts';

// The envelopes as they were declared with zod before they were written out (shared/events/
// envelope-check.ts): the written-out checks must accept, default and word their issues exactly so.
const reference = {
  http: z.object({
    version: z.literal('v1'),
    rawPath: z.string(),
    body: z._default(z.string(), ''),
    isBase64Encoded: z._default(z.boolean(), false),
    headers: z._default(z.record(z.string(), z.string()), {}),
    queryParameters: z._default(z.record(z.string(), z.string()), {}),
    requestContext: z.object({
      accountId: z.optional(z.string()),
      domainName: z.optional(z.string()),
      domainPrefix: z.optional(z.string()),
      http: z.object({
        method: z.string().check(z.minLength(1)),
        path: z.string(),
        protocol: z.optional(z.string()),
        sourceIp: z.optional(z.string()),
        userAgent: z.optional(z.string()),
      }),
      requestId: z.string().check(z.minLength(1)),
      time: z.optional(z.string()),
      timeEpoch: z.optional(z.string()),
      triggerId: z.optional(z.string()),
    }),
  }),
  job: z.object({
    id: z.string().check(z.minLength(1), z.maxLength(128)),
    kind: z
      .string()
      .check(
        z.regex(
          /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/,
          'expected a dotted lower-case kind such as image.build',
        ),
        z.maxLength(128),
      ),
    idempotencyKey: z.string().check(z.minLength(1), z.maxLength(512)),
    payload: z.unknown(),
    correlationId: z.string().check(z.minLength(1), z.maxLength(128)),
    attempt: z.int().check(z.gte(1), z.lte(1000)),
    createdAt: z.iso.datetime({ offset: true }),
  }),
  timer: z.object({
    triggerTime: z.iso.datetime({ offset: true }),
    triggerName: z.string().check(z.minLength(1)),
    payload: z.optional(z.string()),
  }),
};

const written: Record<keyof typeof reference, (value: unknown) => unknown> = {
  http: checkHttpEvent,
  job: checkJobMessage,
  timer: checkTimerEvent,
};
const what = { http: 'HTTP trigger event', job: 'job message', timer: 'timer event' };

function outcome(parse: () => unknown) {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return { ok: false, message: error.message, issues: error.issues };
  }
}

/**
 * The same value, or issues at the same fields with the same first message at each. (After a wrong
 * type zod may add a second, stranger one: an array for a string also "expected array to have >=1
 * items". The written-out checks stop at the first.)
 */
function agree(name: keyof typeof reference, value: unknown) {
  const expected = outcome(() => parseWith(reference[name], value, what[name]));
  const actual = outcome(() => written[name](value));
  if (expected.ok || actual.ok) {
    expect(actual).toEqual(expected);
    return;
  }
  const firstByPath = (issues: readonly Issue[]) => {
    const out = new Map<string, string>();
    for (const i of issues) if (!out.has(JSON.stringify(i.path))) out.set(JSON.stringify(i.path), i.message);
    return out;
  };
  expect(firstByPath(actual.issues!)).toEqual(firstByPath(expected.issues!));
  for (const issue of actual.issues!) expect(expected.issues).toContainEqual(issue);
}

// Values a field gets wrong in the ways that matter: types, lengths, dates, numbers at the limits.
const garbage = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    '',
    'v1',
    'v2',
    'x'.repeat(129),
    'x'.repeat(513),
    'Image.build',
    'image..build',
    '2026-11-27T10:00:00Z',
    '2026-11-27T10:00:00.123+08:00',
    '2026-11-27T10:00Z',
    '2026-02-29T10:00:00Z',
    '2024-02-29T10:00:00Z',
    '2026-11-27 10:00:00Z',
    0,
    1,
    1.5,
    1000,
    1001,
    -1,
    2 ** 60,
    -(2 ** 60),
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    undefined,
    null,
    [],
    {},
    { a: 'b' },
    { a: 1 },
    new Date(0),
  ),
);

describe('envelopes written out agree with their zod declarations', () => {
  const real = {
    http: ['http/get.json', 'http/post-base64.json'],
    job: ['job/image-build.json'],
    timer: ['timer/timer.json', 'timer/with-json-payload.json'],
  };
  for (const name of Object.keys(reference) as (keyof typeof reference)[]) {
    it(`${name}: the real events parse to the same value`, () => {
      for (const file of real[name]) {
        agree(name, fixture(file));
        expect(outcome(() => written[name](fixture(file))).ok).toBe(true);
      }
    });

    it(`${name}: a real event with fields replaced, up to three deep, gets the same value or issues`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...real[name]),
          fc.array(fc.tuple(fc.array(fc.nat(20), { maxLength: 3 }), garbage), { maxLength: 3 }),
          (file, edits) => {
            let value: unknown = fixture(file);
            for (const [path, g] of edits) value = mutate(value, path, g);
            agree(name, value);
          },
        ),
        { numRuns: 1500 },
      );
    });

    it(`${name}: fields dropped one by one get the same value or issues`, () => {
      for (const file of real[name]) {
        const base = fixture(file);
        const drop = (v: Record<string, unknown>, key: string) => {
          const { [key]: _, ...rest } = v;
          return rest;
        };
        for (const key of Object.keys(base)) agree(name, drop(base, key));
        const context = base.requestContext as Record<string, unknown> | undefined;
        if (context) {
          for (const key of Object.keys(context))
            agree(name, { ...base, requestContext: drop(context, key) });
          const http = context.http as Record<string, unknown>;
          for (const key of Object.keys(http))
            agree(name, { ...base, requestContext: { ...context, http: drop(http, key) } });
        }
      }
    });

    it(`${name}: anything at all gets the same value or issues`, () => {
      fc.assert(
        fc.property(fc.oneof(garbage, fc.anything()), (value) => agree(name, value)),
        { numRuns: 500 },
      );
    });
  }

  it("takes its date-time pattern from zod's", () => {
    expect(ISO_DATETIME.source).toBe(regexes.datetime({ offset: true }).source);
    expect(ISO_DATETIME.flags).toBe(regexes.datetime({ offset: true }).flags);
  });

  it('names each problem where it is, all of them at once', () => {
    const bad = outcome(() =>
      checkHttpEvent({
        version: 'v2',
        rawPath: '/',
        headers: { a: 1 },
        requestContext: { http: { method: '' }, requestId: 'r' },
      }),
    );
    expect(bad).toEqual({
      ok: false,
      message: expect.stringContaining('HTTP trigger event'),
      issues: [
        { path: ['version'], message: 'Invalid input: expected "v1"' },
        { path: ['headers', 'a'], message: 'Invalid input: expected string, received number' },
        {
          path: ['requestContext', 'http', 'method'],
          message: 'Too small: expected string to have >=1 characters',
        },
        {
          path: ['requestContext', 'http', 'path'],
          message: 'Invalid input: expected string, received undefined',
        },
      ],
    });
  });
});
