import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type * as z from 'zod';
import { ConfigError, type ConfigLocation, formatPath } from '../runtime/errors.ts';

/** A parsed YAML file that can say where any value came from. */
export interface YamlSource {
  file: string;
  data: unknown;
  /**
   * Line and column (1-based) of the value at `path`, or of its nearest existing parent; with `key`,
   * of the last segment's key rather than its value (where a misspelt key is).
   */
  locate(
    path: ReadonlyArray<PropertyKey>,
    options?: { key?: boolean },
  ): { line: number; column: number } | undefined;
}

/** Parse YAML text; syntax errors become a ConfigError naming file, line and column. */
export function readYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, message: e.message.split('\n')[0] ?? e.code };
      }) as (ConfigLocation & { message: string })[],
    );
  }
  return {
    file,
    data: doc.toJS({ maxAliasCount: 100 }),
    locate(path, options) {
      if (options?.key && path.length > 0) {
        const parent = doc.getIn(path.slice(0, -1) as unknown[], true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
          const range = isScalar(pair?.key) ? pair.key.range : undefined;
          if (range) {
            const pos = lineCounter.linePos(range[0]);
            return { line: pos.line, column: pos.col };
          }
        }
      }
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as unknown[], true) as
          | { range?: [number, number, number] }
          | undefined;
        if (node && typeof node === 'object' && node.range) {
          const pos = lineCounter.linePos(node.range[0]);
          return { line: pos.line, column: pos.col };
        }
      }
      return undefined;
    },
  };
}

/** Turn zod issues over a YAML file into one ConfigError that names file, line, column and field. */
export function configErrorFromIssues(
  source: YamlSource,
  issues: readonly z.core.$ZodIssue[],
  root: PropertyKey[] = [],
) {
  return new ConfigError(
    issues.map((issue) => {
      let path: PropertyKey[] = [...root, ...issue.path];
      let message = issue.message;
      let key = false;
      // Unknown keys are reported at the key itself, so a typo points at the typo.
      if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
        path = [...path, issue.keys[0]!];
        key = true;
        message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      const pos = source.locate(path, { key });
      return { file: source.file, line: pos?.line, column: pos?.column, field: formatPath(path), message };
    }) as (ConfigLocation & { message: string })[],
  );
}

/** A config file's text, or a ConfigError naming the file and why it cannot be read. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([
      { file, message: `cannot read the file (${(cause as NodeJS.ErrnoException).code})` },
    ]);
  }
}
