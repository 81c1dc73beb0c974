import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { parseHttpEvent } from '../../shared/events/http.ts';
import { parseJob } from '../../shared/events/job.ts';
import { parseOssEvent } from '../../shared/events/oss.ts';
import { decodeJson } from '../../shared/events/parse.ts';
import { parseTimerEvent } from '../../shared/events/timer.ts';
import { ParseError } from '../../shared/runtime/errors.ts';
import { fixture, mutate } from '../helpers.ts';

const parsers: Record<string, (value: unknown) => unknown> = {
  timer: (v) => parseTimerEvent(v, z.object({ n: z.number() })),
  oss: parseOssEvent,
  http: parseHttpEvent,
  job: (v) => parseJob(v, { 'image.build': z.object({ pipeline: z.string() }) }),
};

/** Every envelope either parses or throws a ParseError whose issues carry a path; nothing else. */
function onlyParseErrors(parse: (value: unknown) => unknown, value: unknown) {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
    for (const issue of (error as ParseError).issues) expect(Array.isArray(issue.path)).toBe(true);
  }
}

describe('envelopes under generated garbage', () => {
  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name}: arbitrary JSON values give only parse errors`, () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => onlyParseErrors(parse, value)),
        { numRuns: 300 },
      );
    });
  }

  const realEvents: Record<string, string> = {
    timer: 'timer/with-json-payload.json',
    oss: 'oss/put-object.json',
    http: 'http/get.json',
    job: 'job/image-build.json',
  };
  for (const [name, file] of Object.entries(realEvents)) {
    it(`${name}: a real event with one field replaced by garbage gives only parse errors`, () => {
      const base = fixture(file);
      fc.assert(
        fc.property(fc.array(fc.nat(20), { maxLength: 6 }), fc.anything(), (path, garbage) =>
          onlyParseErrors(parsers[name]!, mutate(base, path, garbage)),
        ),
        { numRuns: 300 },
      );
    });
  }

  it('random bytes decode to JSON or a ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) =>
        onlyParseErrors((b) => decodeJson(b as Uint8Array), bytes),
      ),
      { numRuns: 300 },
    );
  });
});
