# The same load-test environment on Alibaba Cloud: ApsaraDB RDS for PostgreSQL, ApsaraMQ for RabbitMQ,
# ApsaraDB for MongoDB and Elasticsearch, in one existing VPC. Each `fc-devops env create` gets its own
# (named after var.environment), and the destroy at expiry removes them.
#
# Everything is pay-as-you-go on purpose: the alicloud provider cannot destroy a Subscription
# ApsaraMQ instance (it only drops it from the state), so an environment with one would outlive its
# time to live and keep being paid for.
#
# This variant needs the aliyun/alicloud provider (from the registry, or the layer's mirror); the
# tests here can only check its format (`terraform fmt -check`), not plan it.

terraform {
  required_providers {
    alicloud = {
      source  = "aliyun/alicloud"
      version = ">= 1.230.0"
    }
  }
}

variable "environment" {
  type        = string
  description = "Set by fc-devops: the environment's id (loadtest-k3x9ab)."
}

variable "region" {
  type    = string
  default = "cn-hangzhou"
}

variable "vswitch_id" {
  type        = string
  description = "The vSwitch every instance is placed in."
}

variable "allowed_cidr" {
  type        = string
  default     = "10.0.0.0/8"
  description = "Who may connect: the load generators' network."
}

variable "password" {
  type        = string
  sensitive   = true
  description = "Password of every account the environment makes (pass it as $${env:NAME} in fc-devops.yaml)."
}

provider "alicloud" {
  region = var.region
}

locals {
  name = "fcd-${var.environment}"
  # Database and account names: lower-case letters, digits and underscores.
  db = "fcd_${replace(var.environment, "-", "_")}"
}

resource "alicloud_db_instance" "pg" {
  engine                   = "PostgreSQL"
  engine_version           = "16.0"
  instance_type            = "pg.n2.2c.1m"
  instance_storage         = 20
  db_instance_storage_type = "cloud_essd"
  instance_charge_type     = "Postpaid"
  vswitch_id               = var.vswitch_id
  security_ips             = [var.allowed_cidr]
  instance_name            = local.name
}

resource "alicloud_rds_account" "pg" {
  db_instance_id   = alicloud_db_instance.pg.id
  account_name     = local.db
  account_password = var.password
  account_type     = "Normal"
}

resource "alicloud_db_database" "pg" {
  instance_id   = alicloud_db_instance.pg.id
  name          = local.db
  character_set = "UTF8"
}

resource "alicloud_db_account_privilege" "pg" {
  instance_id  = alicloud_db_instance.pg.id
  account_name = alicloud_rds_account.pg.account_name
  privilege    = "DBOwner"
  db_names     = [alicloud_db_database.pg.name]
}

resource "alicloud_amqp_instance" "mq" {
  instance_name          = local.name
  payment_type           = "PayAsYouGo"
  serverless_charge_type = "onDemand"
}

resource "alicloud_amqp_virtual_host" "mq" {
  instance_id       = alicloud_amqp_instance.mq.id
  virtual_host_name = local.name
}

resource "alicloud_mongodb_instance" "mongo" {
  engine_version       = "6.0"
  db_instance_class    = "mdb.shard.2x.xlarge.d"
  db_instance_storage  = 20
  storage_type         = "cloud_essd1"
  instance_charge_type = "PostPaid"
  vswitch_id           = var.vswitch_id
  security_ip_list     = [var.allowed_cidr]
  account_password     = var.password
  name                 = local.name
}

resource "alicloud_elasticsearch_instance" "es" {
  description          = local.name
  version              = "7.10_with_X-Pack"
  instance_charge_type = "PostPaid"
  data_node_amount     = 2
  data_node_spec       = "elasticsearch.sn2ne.large"
  data_node_disk_size  = 20
  data_node_disk_type  = "cloud_ssd"
  vswitch_id           = var.vswitch_id
  password             = var.password
  kibana_whitelist     = [var.allowed_cidr]
}

output "database_url" {
  value     = "postgres://${local.db}:${var.password}@${alicloud_db_instance.pg.connection_string}:${alicloud_db_instance.pg.port}/${local.db}"
  sensitive = true
}

output "amqp_vhost" {
  value = "${alicloud_amqp_instance.mq.id}/${alicloud_amqp_virtual_host.mq.virtual_host_name}"
}

output "mongodb_url" {
  value     = "mongodb://root:${var.password}@${alicloud_mongodb_instance.mongo.replica_set_name}"
  sensitive = true
}

output "elasticsearch_url" {
  value = "http://${alicloud_elasticsearch_instance.es.domain}:${alicloud_elasticsearch_instance.es.port}"
}
