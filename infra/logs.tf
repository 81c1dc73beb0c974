# The functions' logs (s.yaml's logConfig).
resource "alicloud_log_project" "functions" {
  project_name = "${var.prefix}-${local.account_id}"
  description  = "fc-devops function logs"
}

resource "alicloud_log_store" "functions" {
  project_name     = alicloud_log_project.functions.project_name
  logstore_name    = "functions"
  retention_period = var.log_retention_days
  shard_count      = 2
}
