variable "region" {
  description = "Region of every resource (s.yaml's vars.region, fc-devops.yaml's region)."
  type        = string
  default     = "cn-hangzhou"
}

variable "prefix" {
  description = "Names of roles, policies, the queue and the layers start with this."
  type        = string
  default     = "fc-devops"
}

variable "functions" {
  description = "The functions of s.yaml: one RAM role each, with infra/policies/<function>.json."
  type        = list(string)
  default     = ["notify", "release", "scale", "monitor", "backup-rotate", "git-webhook", "image-build", "image-prune", "terraform", "console"]
}

variable "bucket" {
  description = "The artifacts bucket (fc-devops.yaml's bucket and terraform.bundles.bucket). Bucket names are global."
  type        = string
}

variable "artifact_days" {
  description = "Days build artifacts (artifacts/) and workspace bundles (terraform/) are kept."
  type        = number
  default     = 90
}

variable "vpc_cidr" {
  type    = string
  default = "172.16.0.0/16"
}

variable "vswitch_cidr" {
  type    = string
  default = "172.16.10.0/24"
}

variable "zone_id" {
  description = "Zone of the vSwitch and the RDS instance; empty picks the first zone that sells the instance."
  type        = string
  default     = ""
}

variable "db_engine_version" {
  type    = string
  default = "16.0"
}

variable "db_instance_type" {
  description = "ApsaraDB RDS for PostgreSQL instance type of the state store."
  type        = string
  default     = "pg.n2.2c.1m"
}

variable "db_storage_gb" {
  type    = number
  default = 20
}

variable "db_storage_type" {
  type    = string
  default = "cloud_essd"
}

variable "db_account" {
  type    = string
  default = "fcdevops"
}

variable "db_password" {
  description = "Password of the store's account (TF_VAR_db_password); it ends up in DATABASE_URL."
  type        = string
  sensitive   = true
}

variable "db_name" {
  type    = string
  default = "fcdevops"
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "dead_letter_days" {
  description = "Days a failed async event stays in the dead-letter queue (MNS allows 1 to 7)."
  type        = number
  default     = 7
}

variable "layers" {
  description = "Layer archives from `fc-devops layer build`, by name (git, packer, terraform, pg-clients, mysql-clients)."
  type        = map(string)
  default     = {}
}

variable "create_oss_trigger_role" {
  description = "Create AliyunOSSEventNotificationRole (s.yaml's OSS trigger invocationRole); false if the account has it."
  type        = bool
  default     = true
}

variable "functions_url" {
  description = "Where /<function>/<path> reaches each function's HTTP trigger (a custom domain with a route per function; not created here). The console sends changes there; empty: its runs, backups and audit pages still work."
  type        = string
  default     = ""
}

variable "console_prefix" {
  description = "The path the console is served under on that domain."
  type        = string
  default     = "/console"
}
