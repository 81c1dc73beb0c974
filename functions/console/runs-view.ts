import type { Run } from '../../shared/store/port.ts';
import { ago, type Chrome, h, type Raw, raw } from './html.ts';

export function statusCell(run: Pick<Run, 'status'>): Raw {
  return h`<span class="status-${raw(run.status)}">${run.status}</span>`;
}

export function took(run: Run): string {
  if (!run.startedAt) return '';
  const end = run.finishedAt ?? new Date();
  return `${((end.getTime() - run.startedAt.getTime()) / 1000).toFixed(1)} s`;
}

/** A run's stages with how long each took and its progress where known. */
export function stagesHtml(run: Run, now: Date): Raw {
  if (run.stages.length === 0) return h`<p class="muted">No stages recorded.</p>`;
  return h`<table data-test="stages"><thead><tr><th>stage</th><th>started</th><th>took</th><th>progress</th></tr></thead><tbody>${run.stages.map(
    (s) => {
      const end = s.endedAt ? new Date(s.endedAt) : (run.finishedAt ?? now);
      const seconds = ((end.getTime() - new Date(s.startedAt).getTime()) / 1000).toFixed(1);
      return h`<tr><td>${s.name}</td><td title="${s.startedAt}">${s.startedAt.slice(11, 19)}</td><td>${seconds} s${s.endedAt || run.finishedAt ? '' : ' …'}</td><td>${
        s.progress !== undefined
          ? h`<progress max="100" value="${s.progress}"></progress> ${s.progress}%`
          : ''
      } ${s.detail ?? ''}</td></tr>`;
    },
  )}</tbody></table>`;
}

export function runRows(c: Chrome, runs: readonly Run[], now: Date) {
  return runs.map((r) => [
    h`<a href="${c.base}/runs/${encodeURIComponent(r.id)}">${r.id}</a>`,
    r.kind,
    r.subject,
    statusCell(r),
    h`<span title="${r.createdAt.toISOString()}">${ago(r.createdAt, now)}</span>`,
    took(r),
    r.stages.length ? r.stages[r.stages.length - 1]!.name : '',
  ]);
}
