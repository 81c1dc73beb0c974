const layer = (name: string, v: number) =>
  `acs:fc:cn-shanghai:5555666677778888:layers/fc-devops-${name}/versions/${v}`;
/** What `terraform -chdir=infra output -raw deploy_env` gives `npm run deploy`. */
export const DEPLOY_ENV = {
  FC_DEVOPS_REGION: 'cn-shanghai',
  FC_DEVOPS_ACCOUNT_ID: '5555666677778888',
  FC_DEVOPS_BUCKET: 'acme-fc-devops',
  FC_DEVOPS_VPC_ID: 'vpc-uf6acme',
  FC_DEVOPS_VSWITCH_ID: 'vsw-uf6acme',
  FC_DEVOPS_SECURITY_GROUP_ID: 'sg-uf6acme',
  FC_DEVOPS_LOG_PROJECT: 'acme-fc-devops-logs',
  FC_DEVOPS_LOG_STORE: 'functions',
  FC_DEVOPS_DEAD_LETTER: 'acs:mns:cn-shanghai:5555666677778888:/queues/fc-devops-dead-letter/messages',
  FC_DEVOPS_FUNCTIONS_URL: 'https://ops.example.com',
  FC_DEVOPS_LAYER_GIT: layer('git', 1),
  FC_DEVOPS_LAYER_PACKER: layer('packer', 2),
  FC_DEVOPS_LAYER_TERRAFORM: layer('terraform', 1),
  FC_DEVOPS_LAYER_PG_CLIENTS: layer('pg-clients', 3),
  FC_DEVOPS_LAYER_MYSQL_CLIENTS: layer('mysql-clients', 1),
};
