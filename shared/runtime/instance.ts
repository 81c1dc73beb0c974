import type { GuardDeps } from '../auth/guard.ts';
import { type Cloud, createCloud } from '../cloud/cloud.ts';
import { credentialsFrom } from '../cloud/credentials.ts';
import { compiledConfigPath, readCompiledConfig } from '../config/compiled.ts';
import type { Config } from '../config/schema/index.ts';
import { type Events, eventsVia } from '../notify/publish.ts';
import { lazyStore } from '../store/lazy.ts';
import { storeFromEnv } from '../store/open.ts';
import type { Store } from '../store/port.ts';
import type { FcContext } from './context.ts';
import { InvariantError } from './errors.ts';
import { createLogger, type Logger } from './logger.ts';

/** What a function has once per instance, whatever event it handles. */
export interface Instance {
  /** fc-devops.yaml as checked at build time (shared/config/compiled.ts), read at cold start. */
  readonly config: Config;
  /** The state store, connected on first use. */
  readonly store: Store;
  /** Alibaba Cloud in the function's region, with the credentials FC gave the latest invocation. */
  readonly cloud: Cloud;
  /** The same in another region (images copied there, cross-region backups). */
  cloudIn(region: string): Cloud;
  /** Tell people what happened (async invocations of `notify`). */
  readonly events: Events;
  /** What the operator gate needs (`guarded`, `guardedRun`): the config's keys, the store, the clock. */
  readonly guardDeps: GuardDeps;
}

export interface InstanceOptions {
  /** The config; the compiled JSON at FC_DEVOPS_CONFIG (else fc-devops.json) at cold start unless given. `null`: none. */
  config?: Config | null;
  /** Opens the state store; `storeFromEnv()` unless given. */
  store?: () => Promise<Store>;
  /** Where credentials, the sandbox URL and the store are found; `process.env` unless given. */
  env?: NodeJS.ProcessEnv;
  /** Tests pass a fixed clock (`ctx.now`, event times); functions use real time. */
  now?: () => Date;
}

/**
 * Build the instance's shared parts. The config is read now (module top level: a broken config
 * fails the cold start); the store, the cloud clients and the events port are made on first use
 * and kept. Each invocation `enter`s with its FC context, whose rotated STS credentials and logger
 * the clients use from then on.
 */
export function instance(options: InstanceOptions) {
  const env = options.env ?? process.env;
  const config = options.config === undefined ? readCompiledConfig(compiledConfigPath(env)) : options.config;
  const openStore = options.store ?? storeFromEnv(env);
  let current: { fc: FcContext; log: Logger } | undefined;
  const fallback = createLogger();
  const log: Logger = {
    debug: (m, f) => (current?.log ?? fallback).debug(m, f),
    info: (m, f) => (current?.log ?? fallback).info(m, f),
    warn: (m, f) => (current?.log ?? fallback).warn(m, f),
    error: (m, f) => (current?.log ?? fallback).error(m, f),
    child: (b) => (current?.log ?? fallback).child(b),
  };
  const clouds = new Map<string, Cloud>();
  const fcContext = () => {
    if (!current) throw new InvariantError('the cloud is used before any invocation gave an FC context');
    return current.fc;
  };
  const cloudIn = (region: string): Cloud => {
    let cloud = clouds.get(region);
    if (!cloud) {
      cloud = createCloud({
        region,
        accountId: fcContext().accountId,
        credentials: () => credentialsFrom(fcContext(), env)(),
        baseUrl: env.FC_DEVOPS_CLOUD_URL,
        log,
      });
      clouds.set(region, cloud);
    }
    return cloud;
  };
  let events: Events | undefined;
  const view: Instance = {
    get config() {
      if (!config) throw new InvariantError('this function was defined without an fc-devops.yaml');
      return config;
    },
    store: lazyStore(openStore),
    get cloud() {
      return cloudIn(fcContext().region);
    },
    cloudIn,
    get events() {
      events ??= eventsVia(cloudIn(fcContext().region).fc, options.now ? { now: options.now } : {});
      return events;
    },
    get guardDeps() {
      return {
        keys: view.config.access.keys,
        store: view.store,
        now: options.now ?? (() => new Date()),
        env,
      };
    },
  };
  return {
    view,
    openStore,
    enter(fc: FcContext, invocationLog: Logger) {
      current = { fc, log: invocationLog };
    },
  };
}
