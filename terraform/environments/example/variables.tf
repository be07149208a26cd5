# ---- AWS (the cluster module) ----

variable "aws_region" {
  type    = string
  default = "eu-west-1"
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "ami_id" {
  description = "Debian 13 (trixie) AMI for the client nodes."
  type        = string
}

variable "client_nodes" {
  type    = object({ min = number, max = number, instance_type = string })
  default = { min = 2, max = 6, instance_type = "c6i.xlarge" }
}

variable "crucible_release_url" {
  type = string
}

# ---- Nomad ----

variable "nomad_addr" {
  description = "HTTPS address of the Nomad servers' API."
  type        = string
}

variable "nomad_servers" {
  description = "host:4647 of each Nomad server, for the clients."
  type        = list(string)
}

variable "nomad_server_cidr" {
  type = string
}

variable "nomad_token" {
  description = "A management token for terraform (or one with submit-job and node:read). Prefer the NOMAD_TOKEN environment variable."
  type        = string
  sensitive   = true
  default     = null
}

variable "nomad_ca_file" {
  type = string
}

variable "nomad_client_cert_file" {
  type = string
}

variable "nomad_client_key_file" {
  type = string
}

variable "datacenter" {
  type    = string
  default = "dc1"
}

# ---- Crucible ----

variable "redis_url" {
  type = string
}

variable "container_runtime" {
  type    = string
  default = "runsc"
}

# ---- Grafana ----

variable "grafana_url" {
  description = "Grafana's URL once the grafana job runs, e.g. http://grafana.example:3000."
  type        = string
}

variable "grafana_auth" {
  description = "Grafana service account token or user:password."
  type        = string
  sensitive   = true
}

variable "prometheus_url" {
  description = "Prometheus as Grafana reaches it."
  type        = string
  default     = "http://prometheus.service.nomad:9090"
}
