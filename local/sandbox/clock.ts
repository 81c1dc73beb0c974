/**
 * Sandbox time: real time sped up by `scale` from the moment the sandbox started, so tests can let
 * an hour-long backup finish in a second. Resources record sandbox timestamps; their states are
 * computed from these at read time.
 */
export class SandboxClock {
  private origin = Date.now();
  private base = Date.now();

  constructor(private scale = 1) {}

  now(): number {
    return this.base + (Date.now() - this.origin) * this.scale;
  }

  setScale(scale: number): void {
    this.base = this.now();
    this.origin = Date.now();
    this.scale = scale;
  }

  /** Jump ahead (tests); the jump persists as an offset. */
  advance(ms: number): void {
    this.base += ms;
  }

  get timeScale(): number {
    return this.scale;
  }
}

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
