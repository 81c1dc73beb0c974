import { describe, expect, it } from 'vitest';
import { stampLines } from '../../shared/runtime/once.ts';
import { runLog, stampLine } from '../../shared/runtime/run-log.ts';

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe('run logs', () => {
  it('stamps every line when it comes, each line of a multi-line message alike, without colour codes', async () => {
    const written: string[] = [];
    const log = runLog({ append: async (text) => void written.push(text) });
    log.line(
      '==> Builds finished. The artifacts of successful builds are:\n--> web-disk: Stored file: output/web.raw',
    );
    log.line('\u001b[0m\u001b[32mInitializing the backend...\u001b[0m');
    log.line('2026-12-01T00:36:24.835905Z Terraform 1.11.4');
    await log.close();
    const lines = written.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /);
    // The two parts of one message share its time.
    expect(lines[0]!.slice(0, 24)).toBe(lines[1]!.slice(0, 24));
    expect(lines[1]!.slice(25)).toBe('--> web-disk: Stored file: output/web.raw');
    expect(lines[2]!.slice(25)).toBe('Initializing the backend...');
    // A binary's own timestamp is kept, not stamped twice.
    expect(lines[3]).toBe('2026-12-01T00:36:24.835905Z Terraform 1.11.4');
    // The tail for notices is the text as it came.
    expect(log.tail(1)).toBe('2026-12-01T00:36:24.835905Z Terraform 1.11.4');
  });

  it('stamps appended text line by line, keeping the final newline and earlier stamps', () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    expect(stampLines('one\ntwo\n', at)).toBe('2026-12-01T10:00:00.000Z one\n2026-12-01T10:00:00.000Z two\n');
    expect(stampLines('2026-11-30T09:00:00Z old\n', at)).toBe('2026-11-30T09:00:00Z old\n');
    expect(stampLine('', at)).toMatch(STAMP);
  });
});
