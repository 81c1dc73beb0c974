import { describe, expect, it } from 'vitest';
import { type Figure, formatFigures, met, shortfall } from '../../bench/figures.ts';
import { runCli } from '../helpers.ts';

const figure = (value: number, goal: number, better: Figure['better']): Figure => ({
  id: 'x:y',
  what: 'a figure',
  value,
  unit: 'ms',
  goal,
  better,
});

describe('bench figures', () => {
  it('reads a figure against its goal whichever way is better', () => {
    expect(shortfall(figure(50, 100, 'lower'))).toBe(0.5);
    expect(shortfall(figure(150, 100, 'lower'))).toBe(1.5);
    expect(shortfall(figure(500, 1000, 'higher'))).toBe(2);
    expect(shortfall(figure(0, 1000, 'higher'))).toBe(Number.POSITIVE_INFINITY);
    expect(met(figure(100, 100, 'lower'))).toBe(true);
    expect(met(figure(999, 1000, 'higher'))).toBe(false);
  });

  it('prints each figure beside its goal with the ratio and says which are missed', () => {
    const text = formatFigures([
      { ...figure(32.4, 100, 'lower'), what: 'retention' },
      { ...figure(308, 1000, 'higher'), what: 'webhook', unit: '/s' },
    ]);
    expect(text).toContain('summary: 1 of 2 figures at their goal');
    expect(text).toMatch(/retention +32\.4 ms +goal <= 100 ms +0\.32x of goal +met/);
    expect(text).toMatch(/webhook +308 \/s +goal >= 1000 \/s +0\.31x of goal +MISSED/);
  });

  it('gives tools the figures as JSON on stdout, and refuses an unknown bench or a check with nothing to check', async () => {
    const json = await runCli(['bench', '--only', 'retention', '--json'], {
      env: { ...process.env, BENCH_BACKUPS: '2000' },
    });
    expect(json.status).toBe(0);
    const figures = JSON.parse(json.stdout) as (Figure & { ratio: number })[];
    expect(figures.map((f) => [f.id, f.goal, f.better, f.unit])).toEqual([
      ['retention:hourly', 100, 'lower', 'ms'],
      ['retention:random', 100, 'lower', 'ms'],
    ]);
    for (const f of figures) expect(f.ratio).toBeCloseTo(f.value / f.goal, 10);
    // The benches' own lines went to stderr.
    expect(json.stderr).toContain('retention planner: 2000 backups');
    // So is what the machine costs, with every fact measured (a number, not a placeholder).
    expect(json.stderr).toMatch(
      /machine: \d+ cores \(.+\); node -e 0 \d+ ms, fdatasync \d+\.\d\d ms, loopback round trip \d+ µs CPU, 100k JSON round trips \d+ ms/,
    );

    const unknown = await runCli(['bench', '--only', 'retention,nope']);
    expect(unknown).toMatchObject({ status: 2 });
    expect(unknown.stderr).toContain('no bench named nope');

    const nothing = await runCli(['bench', '--only', 'retention', '--check'], {
      env: { ...process.env, BENCH_BACKUPS: '2000' },
    });
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain('--check found no budget figure');
  }, 60_000);
});
