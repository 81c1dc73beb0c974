/**
 * The six fields of an FC timer expression, parsed to the values each allows. FC's cron takes
 * `, - * /` in every field and `?` in day-of-month and day-of-week (no `L`, `W` or `#`); months by
 * number or JAN..DEC, weekdays by number (0 and 7 both Sunday) or SUN..SAT.
 */
export interface CronFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  /** 0 Sunday … 6 Saturday. */
  dayOfWeek: number[];
  /** `*` or `?`: the field does not restrict the day. */
  dayOfMonthAny: boolean;
  dayOfWeekAny: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Spec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The first name's number (JAN is 1, SUN is 0). */
  namesFrom?: number;
  question?: boolean;
}

const SPECS: Spec[] = [
  { name: 'seconds', min: 0, max: 59 },
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, namesFrom: 0, question: true },
];

export class CronFieldError extends Error {
  override name = 'CronFieldError';
}

function value(text: string, spec: Spec): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  if (named >= 0) return named + spec.namesFrom!;
  if (!/^\d+$/.test(text))
    throw new CronFieldError(`${spec.name}: "${text}" is not a number${spec.names ? ' or a name' : ''}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max)
    throw new CronFieldError(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

function parseField(text: string, spec: Spec): { values: number[]; any: boolean } {
  if (text === '?') {
    if (!spec.question)
      throw new CronFieldError(`${spec.name}: "?" is allowed only in day-of-month and day-of-week`);
    return { values: range(spec.min, spec.max, 1), any: true };
  }
  const out = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw new CronFieldError(`${spec.name}: empty list item in "${text}"`);
    const [base, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new CronFieldError(`${spec.name}: "${item}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        throw new CronFieldError(
          `${spec.name}: step "${stepText}" in "${item}" must be a whole number of 1 or more`,
        );
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (base === '*') [from, to] = [spec.min, spec.max];
    else if (base!.includes('-')) {
      const [a, b, more] = base!.split('-');
      if (more !== undefined || a === '' || b === '')
        throw new CronFieldError(`${spec.name}: "${item}" is not a range a-b`);
      [from, to] = [value(a!, spec), value(b!, spec)];
      if (from > to) throw new CronFieldError(`${spec.name}: range "${base}" runs backwards`);
    } else {
      from = value(base!, spec);
      // `5/15`: from 5 to the end in steps of 15, as cron has it.
      to = stepText === undefined ? from : spec.max;
    }
    for (const n of range(from, to, step)) out.add(n);
  }
  return { values: [...out].sort((a, b) => a - b), any: text === '*' };
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n += step) out.push(n);
  return out;
}

export function parseCronFields(parts: string[]): CronFields {
  if (parts.length !== 6) throw new CronFieldError(`expected 6 fields, got ${parts.length}`);
  const [second, minute, hour, dom, month, dow] = parts.map((p, i) => parseField(p, SPECS[i]!));
  return {
    second: second!.values,
    minute: minute!.values,
    hour: hour!.values,
    dayOfMonth: dom!.values,
    month: month!.values,
    dayOfWeek: [...new Set(dow!.values.map((d) => d % 7))].sort((a, b) => a - b),
    dayOfMonthAny: dom!.any,
    dayOfWeekAny: dow!.any,
  };
}
