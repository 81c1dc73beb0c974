# A load-test environment made of what runs on this machine: a PostgreSQL database with its role, and a
# RabbitMQ vhost with its user. Only Terraform's built-in parts (terraform_data, local-exec), so the real
# binary plans and applies it offline; destroy-time provisioners drop everything again.

variable "name" {
  type        = string
  default     = ""
  description = "Names the environment: its database, role, vhost and user. Empty: fcd_<environment>."
  validation {
    condition     = var.name == "" || can(regex("^[a-z][a-z0-9_]{0,40}$", var.name))
    error_message = "name: lower-case letters, digits and _, starting with a letter."
  }
}

variable "environment" {
  type        = string
  default     = "loadtest"
  description = "Set by fc-devops: the workspace, or the environment made from it (loadtest-k3x9ab)."
}

locals {
  name = var.name != "" ? var.name : "fcd_${replace(var.environment, "-", "_")}"
}

variable "pg_host" {
  type    = string
  default = "127.0.0.1"
}

variable "amqp_password" {
  type      = string
  default   = "loadtest-password"
  sensitive = true
}

resource "terraform_data" "database" {
  input = { name = local.name, host = var.pg_host }

  provisioner "local-exec" {
    command = "psql -h ${self.input.host} -U postgres -v ON_ERROR_STOP=1 -c 'create role ${self.input.name} login' -c 'create database ${self.input.name} owner ${self.input.name}'"
  }

  provisioner "local-exec" {
    when    = destroy
    command = "psql -h ${self.input.host} -U postgres -v ON_ERROR_STOP=1 -c 'drop database if exists ${self.input.name}' -c 'drop role if exists ${self.input.name}'"
  }
}

resource "terraform_data" "vhost" {
  input = { name = local.name }

  provisioner "local-exec" {
    command = "rabbitmqctl -q add_vhost ${self.input.name} && rabbitmqctl -q add_user ${self.input.name} \"$AMQP_PASSWORD\" && rabbitmqctl -q set_permissions -p ${self.input.name} ${self.input.name} '.*' '.*' '.*'"
    environment = {
      AMQP_PASSWORD = var.amqp_password
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "rabbitmqctl -q delete_vhost ${self.input.name}; rabbitmqctl -q delete_user ${self.input.name}"
  }
}

output "database_url" {
  value = "postgres://${local.name}@${var.pg_host}:5432/${local.name}"
}

# A connection string with its password: fc-devops shows it to the environment's owner only.
output "amqp_url" {
  value     = "amqp://${local.name}:${var.amqp_password}@127.0.0.1:5672/${local.name}"
  sensitive = true
}
