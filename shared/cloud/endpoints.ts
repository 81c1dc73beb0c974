/** The products fc-devops calls, by the name used in endpoint overrides and the sandbox's paths. */
export type Product = 'rds' | 'ecs' | 'ess' | 'cs' | 'dm' | 'fc' | 'oss';

const DEFAULTS: Record<Product, (region: string, accountId: string) => string> = {
  rds: () => 'https://rds.aliyuncs.com',
  ecs: (r) => `https://ecs.${r}.aliyuncs.com`,
  ess: (r) =>
    ['cn-qingdao', 'cn-beijing', 'cn-hangzhou', 'cn-shanghai', 'cn-shenzhen', 'ap-southeast-1'].includes(r)
      ? 'https://ess.aliyuncs.com'
      : `https://ess.${r}.aliyuncs.com`,
  cs: (r) => `https://cs.${r}.aliyuncs.com`,
  dm: (r) => (r === 'cn-hangzhou' ? 'https://dm.aliyuncs.com' : `https://dm.${r}.aliyuncs.com`),
  fc: (r, a) => `https://${a}.${r}.fc.aliyuncs.com`,
  oss: (r) => `https://oss-${r}.aliyuncs.com`,
};

export interface EndpointOptions {
  region: string;
  accountId: string;
  /** `FC_DEVOPS_CLOUD_URL`: every product under one base URL, `<url>/<product>` (the sandbox). */
  baseUrl?: string | undefined;
  /** Per-product overrides. */
  overrides?: Partial<Record<Product, string>>;
}

export function endpointFor(product: Product, options: EndpointOptions): string {
  const override = options.overrides?.[product];
  if (override) return override.replace(/\/+$/, '');
  // FC 3.0's API lives at the root of its host (`/2023-03-30/...`), and OSS path-style requests
  // too (`/<bucket>/<key>`): in the sandbox as on the cloud. RPC and ROA products share the sandbox
  // under a prefix each.
  if (options.baseUrl)
    return product === 'fc' || product === 'oss'
      ? options.baseUrl.replace(/\/+$/, '')
      : `${options.baseUrl.replace(/\/+$/, '')}/${product}`;
  return DEFAULTS[product](options.region, options.accountId);
}
