locals {
  database_url = "postgres://${var.db_account}:${urlencode(var.db_password)}@${alicloud_db_instance.store.connection_string}:${alicloud_db_instance.store.port}/${var.db_name}"
  layer_env    = { for name, layer in alicloud_fcv3_layer_version.layer : "FC_DEVOPS_LAYER_${upper(replace(name, "-", "_"))}" => layer.layer_version_arn }
  deploy_env = merge({
    FC_DEVOPS_REGION            = var.region
    FC_DEVOPS_ACCOUNT_ID        = local.account_id
    FC_DEVOPS_BUCKET            = alicloud_oss_bucket.artifacts.bucket
    FC_DEVOPS_VPC_ID            = alicloud_vpc.main.id
    FC_DEVOPS_VSWITCH_ID        = alicloud_vswitch.main.id
    FC_DEVOPS_SECURITY_GROUP_ID = alicloud_security_group.functions.id
    FC_DEVOPS_LOG_PROJECT       = alicloud_log_project.functions.project_name
    FC_DEVOPS_LOG_STORE         = alicloud_log_store.functions.logstore_name
    FC_DEVOPS_DEAD_LETTER       = "acs:mns:${var.region}:${local.account_id}:/queues/${alicloud_message_service_queue.dead_letter.queue_name}/messages"
    DATABASE_URL                = local.database_url
    FC_DEVOPS_FUNCTIONS_URL     = var.functions_url
    FC_DEVOPS_CONSOLE_PREFIX    = var.console_prefix
  }, local.layer_env)
}

# `terraform -chdir=infra output -raw deploy_env > deploy.env`, then `npm run deploy`.
output "deploy_env" {
  description = "KEY=value lines for npm run deploy (holds DATABASE_URL: keep the file private)."
  value       = join("", [for k in sort(keys(local.deploy_env)) : "${k}=${local.deploy_env[k]}\n"])
  sensitive   = true
}

output "role_arns" {
  value = { for name, role in alicloud_ram_role.function : name => role.arn }
}

output "layer_arns" {
  value = { for name, layer in alicloud_fcv3_layer_version.layer : name => layer.layer_version_arn }
}
