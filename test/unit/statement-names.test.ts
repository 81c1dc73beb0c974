import { describe, expect, it } from 'vitest';
import { isStalePlan, StatementNames } from '../../shared/store/engines/statement-names.ts';

describe('StatementNames', () => {
  it('gives each text one name, and past the limit leaves new texts unnamed while known ones keep theirs', () => {
    const names = new StatementNames(2);
    const a = names.nameFor('select $1');
    const b = names.nameFor('select $1, $2');
    expect(a).toMatch(/^fcd_\d+$/);
    expect(b).toMatch(/^fcd_\d+$/);
    expect(b).not.toBe(a);
    expect(names.nameFor('select $1')).toBe(a);
    expect(names.nameFor('select $1, $2, $3')).toBeUndefined();
    expect(names.nameFor('select $1, $2')).toBe(b);
  });

  it('renews a name to one never given before', () => {
    const names = new StatementNames();
    const first = names.nameFor('select * from t where id = $1');
    const other = names.nameFor('select $1');
    const renewed = names.renew('select * from t where id = $1');
    expect([first, other]).not.toContain(renewed);
    expect(names.nameFor('select * from t where id = $1')).toBe(renewed);
  });

  it('knows a stale plan only by its SQLSTATE and message', () => {
    expect(isStalePlan({ code: '0A000', message: 'cached plan must not change result type' })).toBe(true);
    expect(isStalePlan({ code: '0A000', message: 'something else not supported' })).toBe(false);
    expect(isStalePlan({ code: '42P01', message: 'cached plan must not change result type' })).toBe(false);
    expect(isStalePlan(undefined)).toBe(false);
    expect(isStalePlan(new Error('cached plan must not change result type'))).toBe(false);
  });
});
