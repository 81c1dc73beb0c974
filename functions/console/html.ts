import type { HttpResponse } from '../../shared/events/http.ts';

/** Escape text for HTML bodies and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A tagged template whose values are escaped unless they are `raw` (already HTML). */
export class Raw {
  constructor(readonly html: string) {}
}
export const raw = (html: string) => new Raw(html);

export function h(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Raw(out);
}

function render(v: unknown): string {
  if (v instanceof Raw) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

/**
 * Every page: no script or style from anywhere but the console itself (it must work on a closed
 * network), no framing, no referrer to other sites.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export function page(status: number, body: Raw | string, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode: status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...headers },
    isBase64Encoded: false,
    body: typeof body === 'string' ? body : body.html,
  };
}

export interface Chrome {
  base: string;
  title: string;
  keyId?: string | undefined;
  csrf?: string | undefined;
  /** Sections the key may see, for the navigation. */
  sections?: readonly { path: string; label: string }[];
  current?: string;
}

export function layout(c: Chrome, content: Raw): Raw {
  return h`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${c.title} · fc-devops</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${c.base}/static/console.css"></head>
<body${c.csrf ? raw(` data-csrf="${esc(c.csrf)}" data-base="${esc(c.base)}"`) : ''}>
<header><a class="brand" href="${c.base}/">fc-devops</a>
${
  c.sections
    ? h`<nav>${c.sections.map(
        (s) =>
          h`<a href="${c.base}${s.path}"${s.path === c.current ? raw(' aria-current="page"') : ''}>${s.label}</a>`,
      )}</nav>`
    : ''
}
${
  c.keyId
    ? h`<form class="who" method="post" action="${c.base}/sign-out"><input type="hidden" name="_csrf" value="${c.csrf}"><span data-test="who">${c.keyId}</span> <button>Sign out</button></form>`
    : ''
}</header>
<main><h1>${c.title}</h1>${content}</main>
<script src="${c.base}/static/console.js" defer></script></body></html>`;
}

/** A POST form with the CSRF token and a one-off idempotency key (a double submit does the work once). */
export function actionForm(
  c: Chrome,
  action: string,
  label: string,
  fields: Raw | string = '',
  options: { danger?: boolean; test?: string } = {},
): Raw {
  return h`<form class="action" method="post" action="${c.base}${action}"><input type="hidden" name="_csrf" value="${c.csrf}"><input type="hidden" name="_once" value="${onceToken()}">${typeof fields === 'string' ? raw(fields) : fields}<button${options.danger ? raw(' class="danger"') : ''}${options.test ? raw(` data-test="${esc(options.test)}"`) : ''}>${label}</button></form>`;
}

function onceToken(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Rows of objects as a table; cells are text unless `raw`. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[], test?: string): Raw {
  if (rows.length === 0) return h`<p class="empty">Nothing here yet.</p>`;
  return h`<table${test ? raw(` data-test="${esc(test)}"`) : ''}><thead><tr>${headers.map((x) => h`<th>${x}</th>`)}</tr></thead><tbody>${rows.map(
    (r) => h`<tr>${r.map((cell) => h`<td>${cell}</td>`)}</tr>`,
  )}</tbody></table>`;
}

/** A JSON value for people: nested keys as a definition list, kept short. */
export function dl(value: unknown, depth = 0): Raw {
  if (value === null || value === undefined) return h`<span class="muted">none</span>`;
  if (typeof value !== 'object') return h`${String(value)}`;
  if (depth > 2) return h`<code>${JSON.stringify(value).slice(0, 300)}</code>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return h`<span class="muted">none</span>`;
    return h`<ul>${value.slice(0, 20).map((v) => h`<li>${dl(v, depth + 1)}</li>`)}${value.length > 20 ? h`<li class="muted">and ${value.length - 20} more</li>` : ''}</ul>`;
  }
  return h`<dl>${Object.entries(value as Record<string, unknown>).map(([k, v]) => h`<dt>${k}</dt><dd>${dl(v, depth + 1)}</dd>`)}</dl>`;
}

export function ago(date: Date | string | null | undefined, now: Date): string {
  if (!date) return '';
  const ms = now.getTime() - new Date(date).getTime();
  const s = Math.round(Math.abs(ms) / 1000);
  const text =
    s < 90
      ? `${s}s`
      : s < 5400
        ? `${Math.round(s / 60)}m`
        : s < 172800
          ? `${Math.round(s / 3600)}h`
          : `${Math.round(s / 86400)}d`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}

export function errorPage(c: Chrome, status: number, message: string) {
  return page(
    status,
    layout(
      { ...c, title: status === 404 ? 'Not found' : status === 403 ? 'Forbidden' : 'Error' },
      h`<p class="error" data-test="error">${message}</p>`,
    ),
  );
}
