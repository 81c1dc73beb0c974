# Binaries the functions run (git, packer, terraform, pg_dump/psql, mysqldump/mysql), as FC layers:
# `fc-devops layer build <name>` makes each archive (bin/, lib/, fc-devops-layer.json); FC unpacks it
# under /opt, where the functions look first.
resource "alicloud_oss_bucket_object" "layer" {
  for_each = var.layers
  bucket   = alicloud_oss_bucket.artifacts.bucket
  key      = "layers/${each.key}-${filemd5(each.value)}.zip"
  source   = each.value
}

resource "alicloud_fcv3_layer_version" "layer" {
  for_each           = var.layers
  layer_name         = "${var.prefix}-${each.key}"
  compatible_runtime = ["nodejs20"]
  description        = "fc-devops ${each.key} (fc-devops layer build)"
  code {
    oss_bucket_name = alicloud_oss_bucket.artifacts.bucket
    oss_object_name = alicloud_oss_bucket_object.layer[each.key].key
  }
}
