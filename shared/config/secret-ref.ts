/** `${env:NAME}`: how a secret is written in fc-devops.yaml. The value itself never is. */
export const ENV_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

export function envName(ref: string): string | undefined {
  return ENV_REF.exec(ref)?.[1];
}

/** Resolve a reference against an environment; undefined when the variable is unset or empty. */
export function resolveSecret(ref: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = envName(ref);
  const value = name === undefined || !Object.hasOwn(env, name) ? undefined : env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Every `${env:NAME}` reference in a parsed config, with where it is. */
export function findSecretRefs(
  value: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; name: string }[] {
  if (typeof value === 'string') {
    const name = envName(value);
    return name ? [{ path, name }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecretRefs(v, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findSecretRefs(v, [...path, k]));
  }
  return [];
}
