/**
 * The figures a bench run measures, each beside its goal. Goals are issue 15's table: engineering
 * targets for this 2-core machine, printed with the ratio so a regression is read off at a glance.
 */
export interface Figure {
  /** Stable name for tools (`--json`) and the budget check. */
  id: string;
  what: string;
  value: number;
  unit: string;
  /** The target; `better` says which side of it is good. */
  goal: number;
  better: 'lower' | 'higher';
}

/** How far from the goal, as a factor: 1 is the goal; above 1 is worse whichever way is better. */
export function shortfall(f: Figure): number {
  if (f.better === 'lower')
    return f.goal === 0 ? (f.value === 0 ? 1 : Number.POSITIVE_INFINITY) : f.value / f.goal;
  return f.value === 0 ? Number.POSITIVE_INFINITY : f.goal / f.value;
}

export const met = (f: Figure): boolean => shortfall(f) <= 1;

const number = (v: number, unit: string) =>
  `${v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(unit === 'x' ? 2 : 1)} ${unit}`;

/** One line per figure: value, goal and the ratio of the two. */
export function formatFigures(figures: readonly Figure[]): string {
  const width = Math.max(20, ...figures.map((f) => f.what.length));
  const lines = figures.map((f) => {
    const ratio = f.value / f.goal;
    const goal = `${f.better === 'lower' ? '<=' : '>='} ${number(f.goal, f.unit)}`;
    return `  ${f.what.padEnd(width)} ${number(f.value, f.unit).padStart(14)}   goal ${goal.padEnd(16)} ${`${ratio.toFixed(2)}x of goal`.padStart(15)}  ${met(f) ? 'met' : 'MISSED'}`;
  });
  const missed = figures.filter((f) => !met(f)).length;
  return [`\nsummary: ${figures.length - missed} of ${figures.length} figures at their goal`, ...lines].join(
    '\n',
  );
}
