# fc-devops's own cloud resources. Providers cannot be downloaded on the machine this was written on,
# so `terraform validate` has not run against the alicloud provider here: `terraform fmt -check` does
# (in the test suite and CI). Run `terraform init && terraform validate` where the registry is reachable.
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    alicloud = {
      source = "aliyun/alicloud"
      # 1.252.0: alicloud_ram_role's role_name and assume_role_policy_document.
      version = ">= 1.252.0"
    }
  }
}

provider "alicloud" {
  region = var.region
}

data "alicloud_account" "current" {}

locals {
  account_id = data.alicloud_account.current.id
  # The functions of s.yaml; each gets a role named <prefix>-<function> (s.yaml's `role`).
  functions = toset(var.functions)
}
