import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/runtime/logger.ts';
import { REDACTED, redact, redactString } from '../../shared/runtime/redact.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    { function: 'image-build', requestId: 'r1' },
    {
      sink: (l) => lines.push(JSON.parse(l)),
      clock: () => new Date('2026-11-27T10:00:00Z'),
      secrets: ['hunter2-very-secret'],
    },
  );
  return { lines, log };
}

describe('logger', () => {
  it('writes one JSON object per line with the fixed keys first', () => {
    const { lines, log } = capture();
    log.child({ runId: 'run-9', correlationId: 'c1' }).info('build started', { pipeline: 'web' });
    expect(Object.keys(lines[0]!)).toEqual([
      'level',
      'message',
      'time',
      'function',
      'requestId',
      'correlationId',
      'runId',
      'pipeline',
    ]);
    expect(lines[0]).toMatchObject({
      level: 'info',
      message: 'build started',
      time: '2026-11-27T10:00:00.000Z',
      runId: 'run-9',
      pipeline: 'web',
    });
  });

  it('never prints secrets: secret-named fields, signed URL parameters, bearer tokens, known values', () => {
    const { lines, log } = capture();
    log.error('delivery failed', {
      webhookSecret: 'abc',
      headers: { Authorization: 'Bearer abcdefghijklmnop', accept: 'json' },
      url: 'https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef&timestamp=1&sign=xyz%3D',
      note: 'the password is hunter2-very-secret',
      error: new Error('request https://bucket.oss.aliyuncs.com/key?Signature=abc123&Expires=1 failed'),
    });
    const text = JSON.stringify(lines[0]);
    for (const leak of ['abcdefghijklmnop', '0123456789abcdef', 'xyz%3D', 'hunter2-very-secret', 'abc123']) {
      expect(text).not.toContain(leak);
    }
    expect(lines[0]).toMatchObject({
      webhookSecret: REDACTED,
      headers: { Authorization: REDACTED, accept: 'json' },
    });
    expect(text).toContain('timestamp=1');
  });

  it('drops lines below the level', () => {
    const lines: string[] = [];
    const log = createLogger({}, { level: 'warn', sink: (l) => lines.push(l) });
    log.info('quiet');
    log.warn('loud');
    expect(lines).toHaveLength(1);
  });
});

describe('redaction', () => {
  it('scrubs signatures and STS tokens from free text', () => {
    expect(
      redactString(
        'X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      ),
    ).toBe(`X-Hub-Signature-256: ${REDACTED}`);
    expect(redactString('token CAISsomethinglongandbase64encodedAAAA==')).not.toContain('CAISsomething');
  });

  it('keeps structure and harmless values', () => {
    expect(redact({ a: [1, { token: 't' }], b: null, password: '' })).toEqual({
      a: [1, { token: REDACTED }],
      b: null,
      password: '',
    });
  });
});
