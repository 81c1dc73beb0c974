/**
 * Packer's `-machine-readable` stream: one `timestamp,target,type,data...` row per line, commas inside
 * data written as `%!(PACKER_COMMA)`, newlines as a literal `\n` and carriage returns as `\r`.
 */
export interface PackerRow {
  time: number;
  target: string;
  type: string;
  data: string[];
}

export interface PackerArtifact {
  build: string;
  index: number;
  builderId: string;
  id: string;
  string: string;
  files: string[];
}

export interface PackerOutput {
  artifacts: PackerArtifact[];
  /** Errors of the run and of each build (`error` rows and `ui,error` messages). */
  errors: { build: string; message: string }[];
  /** The human-readable lines (`ui` rows), for the run log. */
  messages: string[];
}

/** Undo Packer's escaping of one field. */
export function unescapeField(field: string): string {
  return field.replace(/%!\(PACKER_COMMA\)|\\n|\\r/g, (m) => (m === '\\n' ? '\n' : m === '\\r' ? '\r' : ','));
}

/** One line of the stream; undefined for lines that are not machine-readable rows (stray output). */
export function parseRow(line: string): PackerRow | undefined {
  const parts = line.split(',');
  if (parts.length < 3 || !/^\d+$/.test(parts[0]!)) return undefined;
  return {
    time: Number(parts[0]),
    target: parts[1]!,
    type: parts[2]!,
    data: parts.slice(3).map(unescapeField),
  };
}

/** Fold a whole stream into artifacts (per build, in order), errors and messages. */
export function parseMachineReadable(text: string): PackerOutput {
  const artifacts = new Map<string, PackerArtifact>();
  const errors: PackerOutput['errors'] = [];
  const messages: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const row = parseRow(line);
    if (!row) continue;
    if (row.type === 'ui') {
      const [level, message = ''] = row.data;
      messages.push(message);
      if (level === 'error') errors.push({ build: row.target, message: message.trim() });
      continue;
    }
    if (row.type === 'error') {
      errors.push({ build: row.target, message: (row.data[0] ?? '').trim() });
      continue;
    }
    if (row.type !== 'artifact') continue;
    const [index, field, ...rest] = row.data;
    const key = `${row.target}#${index}`;
    let artifact = artifacts.get(key);
    if (!artifact) {
      artifact = { build: row.target, index: Number(index), builderId: '', id: '', string: '', files: [] };
      artifacts.set(key, artifact);
    }
    if (field === 'builder-id') artifact.builderId = rest[0] ?? '';
    else if (field === 'id') artifact.id = rest[0] ?? '';
    else if (field === 'string') artifact.string = rest[0] ?? '';
    else if (field === 'file') artifact.files[Number(rest[0])] = rest[1] ?? '';
  }
  // The same error is often printed by the build and again in the summary.
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const k = `${e.build}\u0000${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { artifacts: [...artifacts.values()], errors: unique, messages };
}

export const ALICLOUD_BUILDER_ID = 'alibaba.alicloud';

/**
 * The images of an alicloud-ecs artifact. Its id is the sorted `region:imageId` pairs joined by
 * commas (`cn-hangzhou:m-aaa,cn-shanghai:m-bbb` when `image_copy_regions` copied it).
 */
export function alicloudImages(artifact: PackerArtifact): Record<string, string> {
  if (artifact.builderId !== ALICLOUD_BUILDER_ID) return {};
  const images: Record<string, string> = {};
  for (const pair of artifact.id.split(',')) {
    const m = /^\s*([a-z]{2}(?:-[a-z0-9]+)+):(m-[A-Za-z0-9]+)\s*$/.exec(pair);
    if (m) images[m[1]!] = m[2]!;
  }
  return images;
}
