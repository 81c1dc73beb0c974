import { offsetOf } from '../util/zone.ts';
import type { CronFields } from './cron-fields.ts';

const DAY = 86_400_000;
/** How far a search goes before it says a schedule never fires. */
const HORIZON = 8 * 366 * DAY;
/** Offsets change a few times a year at most: probing once a day finds every change. */
const SEGMENT_PROBES = 400;

/**
 * Firings of cron fields in a time zone. Time is cut into segments over which the zone keeps one
 * offset; inside a segment, wall-clock time and instants move together, so firings are found on the
 * wall clock day by day and mapped back. A wall time that a spring-forward skips does not fire; one
 * that a fall-back repeats fires twice (FC: "around daylight-saving switches a job may run twice or
 * be skipped").
 */
export class CronEngine {
  private readonly times: number[];
  private readonly months: Set<number>;
  private readonly doms: Set<number>;
  private readonly dows: Set<number>;
  private readonly fixed: boolean;

  constructor(
    private readonly fields: CronFields,
    private readonly zone: string,
  ) {
    const times: number[] = [];
    for (const h of fields.hour)
      for (const m of fields.minute)
        for (const s of fields.second) times.push(h * 3_600_000 + m * 60_000 + s * 1000);
    this.times = times.sort((a, b) => a - b);
    this.months = new Set(fields.month);
    this.doms = new Set(fields.dayOfMonth);
    this.dows = new Set(fields.dayOfWeek);
    this.fixed = zone === 'UTC' || zone === 'Etc/UTC';
  }

  /** Day-of-month and day-of-week: either, when both are restricted, as cron has it. */
  private dayMatches(day: number): boolean {
    const d = new Date(day * DAY);
    if (!this.months.has(d.getUTCMonth() + 1)) return false;
    const { dayOfMonthAny: domAny, dayOfWeekAny: dowAny } = this.fields;
    const dom = () => this.doms.has(d.getUTCDate());
    const dow = () => this.dows.has(d.getUTCDay());
    if (domAny && dowAny) return true;
    if (domAny) return dow();
    if (dowAny) return dom();
    return dom() || dow();
  }

  /** No day in a whole leap-year cycle matches (30 February): the schedule would never fire. */
  neverFires(): boolean {
    const from = Date.UTC(2000, 0, 1) / DAY;
    for (let day = from; day < from + 29 * 366; day++) if (this.dayMatches(day)) return false;
    return true;
  }

  private offset(t: number): number {
    return this.fixed ? 0 : offsetOf(this.zone, t);
  }

  /** The first instant after `t` (whole seconds) whose offset differs from `o`, or a horizon. */
  private segmentEnd(t: number, o: number): number {
    if (this.fixed) return Number.POSITIVE_INFINITY;
    let prev = t;
    for (let i = 1; i <= SEGMENT_PROBES; i++) {
      const probe = t + i * DAY;
      if (this.offset(probe) !== o) return this.boundary(prev, probe, o);
      prev = probe;
    }
    return prev;
  }

  /** The first instant of the segment holding `t` (whole seconds), or a horizon back. */
  private segmentStart(t: number, o: number): number {
    if (this.fixed) return Number.NEGATIVE_INFINITY;
    let next = t;
    for (let i = 1; i <= SEGMENT_PROBES; i++) {
      const probe = t - i * DAY;
      if (this.offset(probe) !== o) return this.boundary(probe, next, this.offset(probe));
      next = probe;
    }
    return next;
  }

  /** Between `lo` (offset `o`) and `hi` (another offset): the first whole second that has left `o`. */
  private boundary(lo: number, hi: number, o: number): number {
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2000) * 1000;
      if (this.offset(mid) === o) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** Wall-clock firings in [from, to), ascending; `limit` stops early. */
  private walls(from: number, to: number, out: number[], limit = Number.POSITIVE_INFINITY): void {
    const last = Math.floor((to - 1) / DAY);
    for (let day = Math.floor(from / DAY); day <= last && out.length < limit; day++) {
      if (!this.dayMatches(day)) continue;
      const base = day * DAY;
      for (const t of this.times) {
        const w = base + t;
        if (w < from) continue;
        if (w >= to || out.length >= limit) break;
        out.push(w);
      }
    }
  }

  /** The last wall-clock firing in [from, to], if any. */
  private lastWall(from: number, to: number): number | undefined {
    const first = Math.floor(from / DAY);
    for (let day = Math.floor(to / DAY); day >= first; day--) {
      if (!this.dayMatches(day)) continue;
      const base = day * DAY;
      for (let i = this.times.length - 1; i >= 0; i--) {
        const w = base + this.times[i]!;
        if (w > to) continue;
        if (w < from) break;
        return w;
      }
    }
    return undefined;
  }

  /** The first firing strictly after `after`. */
  next(after: Date): Date {
    let t = Math.floor(after.getTime() / 1000) * 1000 + 1000;
    const stop = t + HORIZON;
    while (t < stop) {
      const o = this.offset(t);
      const end = Math.min(this.segmentEnd(t, o), stop);
      const found: number[] = [];
      this.walls(t + o, end + o, found, 1);
      if (found.length) return new Date(found[0]! - o);
      t = end;
    }
    throw new RangeError('the schedule does not fire within eight years');
  }

  /** The last firing at or before `until`. */
  last(until: Date): Date | undefined {
    let t = Math.floor(until.getTime() / 1000) * 1000;
    const stop = t - HORIZON;
    while (t > stop) {
      const o = this.offset(t);
      const start = Math.max(this.segmentStart(t, o), stop);
      const w = this.lastWall(start + o, t + o);
      if (w !== undefined) return new Date(w - o);
      t = start - 1000;
    }
    return undefined;
  }

  /** Every firing after `from` and at or before `to`, in order. */
  between(from: Date, to: Date): Date[] {
    const out: Date[] = [];
    let t = Math.floor(from.getTime() / 1000) * 1000 + 1000;
    const end = Math.floor(to.getTime() / 1000) * 1000 + 1000;
    while (t < end) {
      const o = this.offset(t);
      const segEnd = Math.min(this.segmentEnd(t, o), end);
      const walls: number[] = [];
      this.walls(t + o, segEnd + o, walls);
      for (const w of walls) out.push(new Date(w - o));
      t = segEnd;
    }
    return out;
  }
}
