locals {
  # Who may assume a role: Function Compute for the functions' roles, OSS for the trigger's.
  trusted_by = { for service in ["fc.aliyuncs.com", "oss.aliyuncs.com"] : service => jsonencode({
    Version   = "1"
    Statement = [{ Action = "sts:AssumeRole", Effect = "Allow", Principal = { Service = [service] } }]
  }) }
}

# One role per function. Its own policy is infra/policies/<function>.json, which `fc-devops policies`
# writes from the function's code (the cloud APIs its bundle can call) and fc-devops.yaml (the
# resources they are scoped to); a test fails when the two disagree.
resource "alicloud_ram_role" "function" {
  for_each                    = local.functions
  role_name                   = "${var.prefix}-${each.key}"
  assume_role_policy_document = local.trusted_by["fc.aliyuncs.com"]
  description                 = "fc-devops function ${each.key}"
}

resource "alicloud_ram_policy" "function" {
  for_each        = local.functions
  policy_name     = "${var.prefix}-${each.key}"
  policy_document = file("${path.module}/policies/${each.key}.json")
  description     = "What fc-devops's ${each.key} function calls (generated: fc-devops policies)"
}

resource "alicloud_ram_role_policy_attachment" "function" {
  for_each    = local.functions
  role_name   = alicloud_ram_role.function[each.key].role_name
  policy_name = alicloud_ram_policy.function[each.key].policy_name
  policy_type = "Custom"
}

# What Function Compute itself does with every function's role: write its logs, deliver failed
# async events to the dead-letter queue.
resource "alicloud_ram_policy" "runtime" {
  policy_name = "${var.prefix}-runtime"
  policy_document = jsonencode({
    Version = "1"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["log:PostLogStoreLogs"]
        Resource = ["acs:log:${var.region}:${local.account_id}:project/${alicloud_log_project.functions.project_name}/logstore/${alicloud_log_store.functions.logstore_name}"]
      },
      {
        Effect   = "Allow"
        Action   = ["mns:SendMessage"]
        Resource = ["acs:mns:${var.region}:${local.account_id}:/queues/${alicloud_message_service_queue.dead_letter.queue_name}/messages"]
      },
    ]
  })
  description = "Logs and dead letters of fc-devops functions"
}

resource "alicloud_ram_role_policy_attachment" "runtime" {
  for_each    = local.functions
  role_name   = alicloud_ram_role.function[each.key].role_name
  policy_name = alicloud_ram_policy.runtime.policy_name
  policy_type = "Custom"
}

# OSS invokes the terraform function when a workspace bundle is uploaded (s.yaml's OSS trigger).
resource "alicloud_ram_role" "oss_trigger" {
  count                       = var.create_oss_trigger_role ? 1 : 0
  role_name                   = "AliyunOSSEventNotificationRole"
  assume_role_policy_document = local.trusted_by["oss.aliyuncs.com"]
  description                 = "OSS event notifications invoke Function Compute"
}

resource "alicloud_ram_policy" "oss_trigger" {
  count       = var.create_oss_trigger_role ? 1 : 0
  policy_name = "${var.prefix}-oss-trigger"
  policy_document = jsonencode({
    Version = "1"
    Statement = [{
      Effect   = "Allow"
      Action   = ["fc:InvokeFunction"]
      Resource = ["acs:fc:${var.region}:${local.account_id}:functions/terraform"]
    }]
  })
}

resource "alicloud_ram_role_policy_attachment" "oss_trigger" {
  count       = var.create_oss_trigger_role ? 1 : 0
  role_name   = alicloud_ram_role.oss_trigger[0].role_name
  policy_name = alicloud_ram_policy.oss_trigger[0].policy_name
  policy_type = "Custom"
}
