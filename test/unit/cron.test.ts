import { describe, expect, it } from 'vitest';
import { parseDuration, parseSchedule } from '../../shared/schedule/cron.ts';

const next = (expr: string, after: string) => parseSchedule(expr).next(new Date(after)).toISOString();

describe('FC timer cron', () => {
  it('evaluates six fields with seconds first, in UTC by default (FC doc: 0 0 4 * * *)', () => {
    expect(next('0 0 4 * * *', '2026-11-27T03:59:59Z')).toBe('2026-11-27T04:00:00.000Z');
    expect(next('0 0 4 * * *', '2026-11-27T04:00:00Z')).toBe('2026-11-28T04:00:00.000Z');
  });

  it('honours CRON_TZ (FC doc: CRON_TZ=Asia/Shanghai 0 0 4 1 * * is 04:00 Beijing on the 1st)', () => {
    expect(next('CRON_TZ=Asia/Shanghai 0 0 4 1 * *', '2026-11-27T00:00:00Z')).toBe(
      '2026-11-30T20:00:00.000Z',
    );
    expect(parseSchedule('CRON_TZ=Asia/Shanghai 0 0 4 1 * *').timeZone).toBe('Asia/Shanghai');
  });

  it('follows daylight saving in a zone that has it', () => {
    // 02:30 New York time: EST (UTC-5) in January, EDT (UTC-4) in July.
    expect(next('CRON_TZ=America/New_York 0 30 2 * * *', '2026-01-10T00:00:00Z')).toBe(
      '2026-01-10T07:30:00.000Z',
    );
    expect(next('CRON_TZ=America/New_York 0 30 2 * * *', '2026-07-10T00:00:00Z')).toBe(
      '2026-07-10T06:30:00.000Z',
    );
  });

  it('fires every second, every 5 minutes, and on weekday names', () => {
    expect(next('* * * * * *', '2026-11-27T10:00:00Z')).toBe('2026-11-27T10:00:01.000Z');
    expect(next('0 */5 * * * *', '2026-11-27T10:01:00Z')).toBe('2026-11-27T10:05:00.000Z');
    // 2026-11-27 is a Friday; the next MON 09:30 is the 30th.
    expect(next('0 30 9 * * MON', '2026-11-27T10:00:00Z')).toBe('2026-11-30T09:30:00.000Z');
    expect(next('0 0 12 ? * SUN', '2026-11-27T10:00:00Z')).toBe('2026-11-29T12:00:00.000Z');
    expect(next('0 0 0 1 JAN *', '2026-11-27T10:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
  });

  it('counts @every intervals from an anchor (FC doc: @every 4m)', () => {
    const every = parseSchedule('@every 4m');
    expect(every.everyMs).toBe(240_000);
    const anchor = new Date('2026-11-27T10:00:00Z');
    expect(every.next(new Date('2026-11-27T10:00:00Z'), anchor).toISOString()).toBe(
      '2026-11-27T10:04:00.000Z',
    );
    expect(every.next(new Date('2026-11-27T10:05:00Z'), anchor).toISOString()).toBe(
      '2026-11-27T10:08:00.000Z',
    );
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
  });

  it('rejects what FC would reject, saying why', () => {
    expect(() => parseSchedule('0 * * * *')).toThrow(/expected 6 fields .* got 5/);
    expect(() => parseSchedule('0 61 * * * *')).toThrow(/invalid cron expression/);
    expect(() => parseSchedule('CRON_TZ=Mars/Olympus 0 0 4 * * *')).toThrow(
      /unknown time zone "Mars\/Olympus"/,
    );
    expect(() => parseSchedule('@every 4 minutes')).toThrow(/invalid duration/);
    expect(() => parseSchedule('@every 10ms')).toThrow(/shorter than one second/);
    expect(() => parseSchedule('@every')).toThrow(/invalid duration/);
  });
});
