# The state store: ApsaraDB RDS for PostgreSQL, reachable from the functions' vSwitch only.
resource "alicloud_db_instance" "store" {
  instance_name            = "${var.prefix}-store"
  engine                   = "PostgreSQL"
  engine_version           = var.db_engine_version
  instance_type            = var.db_instance_type
  instance_storage         = var.db_storage_gb
  db_instance_storage_type = var.db_storage_type
  instance_charge_type     = "Postpaid"
  vswitch_id               = alicloud_vswitch.main.id
  security_ips             = [var.vswitch_cidr]
}

resource "alicloud_db_database" "store" {
  instance_id    = alicloud_db_instance.store.id
  data_base_name = var.db_name
  character_set  = "UTF8"
}

resource "alicloud_rds_account" "store" {
  db_instance_id   = alicloud_db_instance.store.id
  account_name     = var.db_account
  account_password = var.db_password
  account_type     = "Normal"
}

resource "alicloud_db_account_privilege" "store" {
  instance_id  = alicloud_db_instance.store.id
  account_name = alicloud_rds_account.store.account_name
  privilege    = "DBOwner"
  db_names     = [alicloud_db_database.store.data_base_name]
}
