import { esc, h, type Raw, raw } from './html.ts';

export interface Point {
  at: Date;
  value: number;
  label?: string;
}

/**
 * A small SVG chart drawn on the server (no script, no library): points over time as a line with
 * dots (`line`), or as a step line for capacity that holds until the next change (`step`).
 */
export function timeChart(
  points: readonly Point[],
  options: {
    title: string;
    unit: string;
    kind?: 'line' | 'step';
    width?: number;
    height?: number;
    test?: string;
  },
): Raw {
  const width = options.width ?? 640;
  const height = options.height ?? 200;
  const pad = { left: 48, right: 12, top: 16, bottom: 28 };
  if (points.length === 0) return h`<p class="empty">${options.title}: no data yet.</p>`;
  const sorted = [...points].sort((a, b) => a.at.getTime() - b.at.getTime());
  const t0 = sorted[0]!.at.getTime();
  const t1 = Math.max(sorted[sorted.length - 1]!.at.getTime(), t0 + 1);
  const max = Math.max(1, ...sorted.map((p) => p.value));
  const x = (t: number) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  let path = '';
  sorted.forEach((p, i) => {
    const px = x(p.at.getTime()).toFixed(1);
    const py = y(p.value).toFixed(1);
    if (i === 0) path += `M${px},${py}`;
    else if (options.kind === 'step') path += `H${px}V${py}`;
    else path += `L${px},${py}`;
  });
  const dots = sorted
    .map(
      (p) =>
        `<circle cx="${x(p.at.getTime()).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3"><title>${esc(p.at.toISOString())}: ${esc(p.value)} ${esc(options.unit)}${p.label ? ` (${esc(p.label)})` : ''}</title></circle>`,
    )
    .join('');
  const ticks = [0, max / 2, max]
    .map(
      (v) =>
        `<text x="${pad.left - 6}" y="${y(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${esc(Math.round(v))}</text><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`,
    )
    .join('');
  const dates = `<text x="${pad.left}" y="${height - 8}">${esc(new Date(t0).toISOString().slice(0, 16).replace('T', ' '))}</text><text x="${width - pad.right}" y="${height - 8}" text-anchor="end">${esc(new Date(t1).toISOString().slice(0, 16).replace('T', ' '))}</text>`;
  return h`<figure class="chart"${options.test ? raw(` data-test="${esc(options.test)}"`) : ''}><figcaption>${options.title} (${options.unit})</figcaption>${raw(
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(options.title)}">${ticks}<path d="${path}" class="series"/>${dots}${dates}</svg>`,
  )}</figure>`;
}
