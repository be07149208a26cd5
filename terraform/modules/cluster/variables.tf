variable "name" {
  description = "Prefix of every resource."
  type        = string
  default     = "crucible"
}

variable "ami_id" {
  description = "A Debian 13 (trixie) AMI: it packages Node.js 20, Docker and mmdebstrap."
  type        = string
}

variable "instance_type" {
  type    = string
  default = "c6i.xlarge"
}

variable "min_nodes" {
  type    = number
  default = 1
}

variable "max_nodes" {
  type    = number
  default = 4
}

variable "subnet_ids" {
  description = "Private subnets for the client nodes (no public IPs: sandboxes have no network anyway)."
  type        = list(string)
}

variable "vpc_id" {
  type = string
}

variable "nomad_servers" {
  description = "Addresses (host:4647) of the Nomad servers the clients join."
  type        = list(string)
}

variable "nomad_server_cidr" {
  description = "Where the Nomad servers are, for the client's inbound rules (4646-4647)."
  type        = string
}

variable "nomad_version" {
  description = "Nomad agent version. 1.6.x is the last MPL-2.0 release; later ones are BUSL-1.1, check your licence terms."
  type        = string
  default     = "1.6.5"
}

variable "datacenter" {
  type    = string
  default = "dc1"
}

variable "crucible_release_url" {
  description = "A tarball of a built Crucible checkout (npm ci && npx tsc -b), unpacked to /opt/crucible."
  type        = string
}

variable "nomad_ca_pem" {
  description = "CA certificate of the cluster's Nomad TLS."
  type        = string
}

variable "nomad_client_cert_pem" {
  type = string
}

variable "nomad_client_key_pem" {
  type      = string
  sensitive = true
}
