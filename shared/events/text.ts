import * as z from 'zod/mini';

// C0 controls but tab, line feed and carriage return; DEL; C1 controls.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Text a person types into a request (a reason, a note): refused with a 400 that names the field
 * when it holds control characters such as NUL, before anything is changed. Text that is data (a
 * log tail, a commit message) is kept as it comes instead: the store makes it storable.
 */
export const humanText = (max: number) =>
  z.string().check(
    z.maxLength(max),
    z.refine((s) => !CONTROL.test(s), 'must not contain control characters (such as NUL)'),
  );

/** True when `s` holds a control character `humanText` refuses. */
export const hasControl = (s: string) => CONTROL.test(s);
