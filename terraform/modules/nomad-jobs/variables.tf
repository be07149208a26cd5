variable "datacenters" {
  description = "Nomad datacenters the Crucible jobs may run in."
  type        = list(string)
  default     = ["dc1"]
}

variable "crucible_dir" {
  description = "Where the Crucible release is unpacked on every client node (the cluster module puts it in /opt/crucible)."
  type        = string
  default     = "/opt/crucible"
}

variable "redis_url" {
  description = "Redis reachable from every node (executor agents need nothing else)."
  type        = string
}

variable "redis_prefix" {
  type    = string
  default = "crucible"
}

variable "container_runtime" {
  description = "runsc (gVisor, recommended for untrusted code) or runc."
  type        = string
  default     = "runsc"

  validation {
    condition     = contains(["runsc", "runc"], var.container_runtime)
    error_message = "container_runtime must be runsc or runc."
  }
}

variable "agent_concurrency" {
  description = "Tasks one executor agent runs at once; must match the scheduler's CRUCIBLE_AGENT_CONCURRENCY."
  type        = number
  default     = 2
}

variable "lane_max_cpus" {
  description = "The lane's CPU limit per evaluation (CRUCIBLE_MAX_CPUS)."
  type        = number
  default     = 1
}

variable "lane_max_memory_mb" {
  description = "The lane's memory limit per evaluation (CRUCIBLE_MAX_MEMORY_MB)."
  type        = number
  default     = 512
}

variable "gateway_count" {
  type    = number
  default = 2
}

variable "nomad_namespace" {
  type    = string
  default = "default"
}

variable "nomad_addr_for_prometheus" {
  description = "Nomad API address Prometheus uses for service discovery."
  type        = string
  default     = "http://127.0.0.1:4646"
}
