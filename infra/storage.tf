# Artifacts (disk images before import), workspace bundles (terraform/) and layer archives (layers/).
resource "alicloud_oss_bucket" "artifacts" {
  bucket = var.bucket

  lifecycle_rule {
    id      = "artifacts"
    enabled = true
    prefix  = "artifacts/"
    expiration {
      days = var.artifact_days
    }
  }

  lifecycle_rule {
    id      = "bundles"
    enabled = true
    prefix  = "terraform/"
    expiration {
      days = var.artifact_days
    }
  }

  # Uploads that never completed (a function timed out mid-upload) cost storage until aborted.
  lifecycle_rule {
    id      = "abort-multipart"
    enabled = true
    prefix  = ""
    abort_multipart_upload {
      days = 7
    }
  }
}
