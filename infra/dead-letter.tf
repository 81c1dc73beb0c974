# Async invocations that exhaust their retries or their maximum age (s.yaml's
# asyncInvokeConfig.destinationConfig.onFailure): kept for an operator to read and replay.
resource "alicloud_message_service_queue" "dead_letter" {
  queue_name               = "${var.prefix}-dead-letter"
  message_retention_period = var.dead_letter_days * 86400
  maximum_message_size     = 65536
}
