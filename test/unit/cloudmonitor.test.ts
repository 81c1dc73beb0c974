import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alarmTime, parseCloudMonitorAlarm } from '../../shared/events/cloudmonitor.ts';
import { ParseError } from '../../shared/runtime/errors.ts';

const sample = (name: string) => readFileSync(join(import.meta.dirname, '../events/cloudmonitor', name));

describe('CloudMonitor alarm callbacks', () => {
  it('reads the documented JSON sample (ALARM as ALERT, dimensions as an array)', () => {
    const alarm = parseCloudMonitorAlarm(sample('alarm-json.json'), 'application/json');
    expect(alarm).toEqual({
      userId: '12345',
      alertName: 'putNewAlarm_group_a37cd898-ea6b-4b7b-a8a8-de017a8327f6',
      timestamp: '1508136760',
      alertState: 'ALERT',
      dimensions: [{ userId: '12345', instanceId: 'i-12345' }],
      expression: [{ expression: '$Average>90', level: 4, times: 2 }],
      curValue: '95',
      metricName: 'CPUUtilization',
      metricProject: 'acs_ecs_dashboard',
    });
    expect(alarmTime(alarm).toISOString()).toBe('2017-10-16T06:52:40.000Z');
  });

  it('reads a form-encoded callback, its JSON-string fields decoded', () => {
    const alarm = parseCloudMonitorAlarm(sample('alarm-form.txt'), 'application/x-www-form-urlencoded');
    expect(alarm).toMatchObject({
      alertName: 'web-asg-cpu-high',
      alertState: 'OK',
      dimensions: [{ userId: '12345', instanceId: 'i-bp1sandbox0001' }],
      expression: [{ expression: '$Average>80', level: 4, times: 3 }],
      curValue: '42.5',
    });
  });

  it('refuses a body without what a decision needs, naming the field', () => {
    const bad = (body: string, type = 'application/x-www-form-urlencoded') => {
      try {
        parseCloudMonitorAlarm(Buffer.from(body), type);
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError);
        return (error as ParseError).issues.map((i) => i.path.join('.'));
      }
      throw new Error('accepted');
    };
    expect(bad('alertName=x&timestamp=1508136760&metricName=CPU&alertState=MAYBE')).toEqual(['alertState']);
    expect(bad('alertName=x&alertState=OK&metricName=CPU&timestamp=soon')).toEqual(['timestamp']);
    expect(bad('alertState=OK&metricName=CPU&timestamp=1508136760')).toEqual(['alertName']);
    expect(bad('{"alertName":', 'application/json')).toEqual(['']);
    expect(bad('alertName=x&alertState=OK&metricName=CPU&timestamp=1508136760&dimensions=not-json')).toEqual([
      'dimensions',
    ]);
  });
});
