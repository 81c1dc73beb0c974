// China's official working calendar: public holidays and the weekend days worked in their place (调休),
// as the State Council's General Office announces them each year (国务院办公厅关于<year>年部分节假日安排的通知).
// A year is added only once its notice is out; until then, schedules that reach it fail and say so.
import type { CalendarYear } from '../calendar.ts';

export const CN_TIME_ZONE = 'Asia/Shanghai';

/** Days off are inclusive ranges `[first, last]`; `workdays` are the weekend days worked instead. */
export const CN_YEARS: Record<number, CalendarYear> = {
  2024: {
    source: '国务院办公厅关于2024年部分节假日安排的通知 (2023-10-25)',
    daysOff: [
      ['2024-01-01', '2024-01-01'],
      ['2024-02-10', '2024-02-17'],
      ['2024-04-04', '2024-04-06'],
      ['2024-05-01', '2024-05-05'],
      ['2024-06-10', '2024-06-10'],
      ['2024-09-15', '2024-09-17'],
      ['2024-10-01', '2024-10-07'],
    ],
    workdays: [
      '2024-02-04',
      '2024-02-18',
      '2024-04-07',
      '2024-04-28',
      '2024-05-11',
      '2024-09-14',
      '2024-09-29',
      '2024-10-12',
    ],
  },
  2025: {
    source: '国务院办公厅关于2025年部分节假日安排的通知 (2024-11-12)',
    daysOff: [
      ['2025-01-01', '2025-01-01'],
      ['2025-01-28', '2025-02-04'],
      ['2025-04-04', '2025-04-06'],
      ['2025-05-01', '2025-05-05'],
      ['2025-05-31', '2025-06-02'],
      ['2025-10-01', '2025-10-08'],
    ],
    workdays: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
  },
  2026: {
    source: '国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)',
    daysOff: [
      ['2026-01-01', '2026-01-03'],
      ['2026-02-15', '2026-02-23'],
      ['2026-04-04', '2026-04-06'],
      ['2026-05-01', '2026-05-05'],
      ['2026-06-19', '2026-06-21'],
      ['2026-09-25', '2026-09-27'],
      ['2026-10-01', '2026-10-07'],
    ],
    workdays: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
  },
};
