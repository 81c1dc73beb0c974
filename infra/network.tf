data "alicloud_db_zones" "store" {
  engine               = "PostgreSQL"
  engine_version       = var.db_engine_version
  instance_charge_type = "PostPaid"
}

locals {
  zone_id = var.zone_id != "" ? var.zone_id : data.alicloud_db_zones.store.ids[0]
}

# The functions reach the state store inside this VPC (s.yaml's vpcConfig).
resource "alicloud_vpc" "main" {
  vpc_name   = var.prefix
  cidr_block = var.vpc_cidr
}

resource "alicloud_vswitch" "main" {
  vswitch_name = var.prefix
  vpc_id       = alicloud_vpc.main.id
  cidr_block   = var.vswitch_cidr
  zone_id      = local.zone_id
}

resource "alicloud_security_group" "functions" {
  security_group_name = "${var.prefix}-functions"
  vpc_id              = alicloud_vpc.main.id
  description         = "fc-devops functions: outbound only"
}
