import { redact, redactString } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The keys every log line has, in this order; variables go in `fields`. */
export interface LogBindings {
  function?: string | undefined;
  requestId?: string | undefined;
  correlationId?: string | undefined;
  runId?: string | undefined;
}

export type LogSink = (line: string) => void;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger with more bindings (e.g. a run id once the run exists). */
  child(bindings: LogBindings): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  sink?: LogSink;
  clock?: () => Date;
  /** Resolved secret values that must never be printed, wherever they turn up. */
  secrets?: readonly string[];
}

/**
 * A JSON-lines logger: one object per line with fixed keys (level, message, time, function,
 * requestId, correlationId, runId) followed by the fields. Messages are constant strings; the
 * fields are redacted so tokens and signatures never reach the log store.
 */
export function createLogger(bindings: LogBindings = {}, options: LoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? envLevel()];
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? (() => new Date());
  const secrets = options.secrets ?? [];

  const write = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    const line: Record<string, unknown> = {
      level,
      message: redactString(message),
      time: clock().toISOString(),
      function: bindings.function,
      requestId: bindings.requestId,
      correlationId: bindings.correlationId,
      runId: bindings.runId,
    };
    if (fields) {
      const clean = redact(fields, secrets) as Record<string, unknown>;
      for (const [k, v] of Object.entries(clean)) {
        if (!(k in line)) line[k] = v;
      }
    }
    sink(JSON.stringify(line));
  };

  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (more) => createLogger({ ...bindings, ...definedOnly(more) }, options),
  };
}

function envLevel(): LogLevel {
  const level = process.env.FC_DEVOPS_LOG_LEVEL;
  return level && level in LEVELS ? (level as LogLevel) : 'info';
}

function definedOnly(b: LogBindings): LogBindings {
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
}
