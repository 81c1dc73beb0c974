// Debian's Chromium, driven by playwright-core, for the console's browser tests.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);

/** Screenshots are kept here as test artifacts (CI prints the path). */
export const ARTIFACTS = resolve(import.meta.dirname, '..', 'test-artifacts', 'console');

export function sayIfNoBrowser(suite: string) {
  if (!HAS_CHROMIUM)
    console.warn(`no Chromium at ${CHROMIUM} (apt-get install chromium): the ${suite} are skipped`);
}

/**
 * Headless Chromium as this machine runs it: as root it needs --no-sandbox, and on a closed network
 * its background connections (updates, sync, Google lookups) are refused, so they are off.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
