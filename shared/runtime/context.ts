/**
 * The `context` Function Compute 3.0 passes a Node.js handler (second argument).
 * Fields per the FC docs; `service` holds the qualifier and resolved version.
 */
export interface FcCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface FcContext {
  requestId: string;
  credentials: FcCredentials;
  function: { name: string; handler: string; memory: number; timeout: number };
  service: { logProject?: string; logStore?: string; qualifier?: string; versionId?: string };
  region: string;
  accountId: string;
  logger: FcLogger;
  retryCount?: number;
}

/** FC's own logger: prints `<ISO time> <requestId> [<level>] <msg>`. */
export interface FcLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  log(...args: unknown[]): void;
}

/** What FC returns for a thrown exception. */
export interface FcErrorPayload {
  errorMessage: string;
  errorType: string;
  stackTrace?: string[];
}
