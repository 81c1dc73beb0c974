import * as z from 'zod';

/**
 * The fc3 component's props that deploying to the cloud depends on, with the types and bounds of
 * its published schema (devsapp/fc3 `src/schema.json`: IVpcConfig, ILogConfig, IAsyncInvokeConfig,
 * `diskSize` 512|10240, `memorySize` a multiple of 64). The local runtime ignores most of these; a
 * wrong one would only show at `s deploy`, so `fc-devops deploy` checks them first.
 */
const nonEmpty = (what: string) => z.string().min(1, `${what} is empty: set it (see infra/README.md)`);

export const fc3CloudProps = z.looseObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z0-9]+)+$/),
  functionName: z.string().min(1),
  runtime: z.literal('nodejs20'),
  role: z.string().regex(/^acs:ram::\d+:role\/[\w.-]+$/, 'expected acs:ram::<account-id>:role/<name>'),
  timeout: z.number().int().min(1).max(86_400),
  memorySize: z.number().int().min(128).max(32_768).multipleOf(64),
  diskSize: z.union([z.literal(512), z.literal(10_240)]).optional(),
  internetAccess: z.boolean().optional(),
  vpcConfig: z.strictObject({
    vpcId: nonEmpty('the VPC id (FC_DEVOPS_VPC_ID)'),
    vSwitchIds: z.array(nonEmpty('a vSwitch id (FC_DEVOPS_VSWITCH_ID)')).min(1),
    securityGroupId: nonEmpty('the security group id (FC_DEVOPS_SECURITY_GROUP_ID)'),
  }),
  logConfig: z.strictObject({
    project: nonEmpty('the SLS project'),
    logstore: nonEmpty('the SLS logstore'),
    enableRequestMetrics: z.boolean().optional(),
    enableInstanceMetrics: z.boolean().optional(),
    logBeginRule: z.enum(['DefaultRegex', 'None']).optional(),
  }),
  layers: z
    .array(
      z
        .string()
        .regex(
          /^acs:fc:[a-z0-9-]+:\d+:layers\/[\w-]+\/versions\/\d+$/,
          'expected a layer version ARN acs:fc:<region>:<account-id>:layers/<name>/versions/<n>',
        ),
    )
    .optional(),
  asyncInvokeConfig: z.looseObject({
    maxAsyncRetryAttempts: z.number().int().min(0).max(8).optional(),
    maxAsyncEventAgeInSeconds: z.number().int().min(1).max(604_800).optional(),
    destinationConfig: z.looseObject({
      onFailure: z.strictObject({
        destination: z
          .string()
          .regex(/^acs:mns:[a-z0-9-]+:\d+:\/queues\/[\w-]+\/messages$/, 'expected an MNS queue ARN'),
      }),
    }),
  }),
});

export type Fc3CloudProps = z.infer<typeof fc3CloudProps>;
