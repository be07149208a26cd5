# An example environment: Nomad client nodes on AWS, every Crucible job registered with Nomad, and
# Grafana provisioned with the Prometheus data source and Crucible's dashboards.
# From nothing to a running cluster: terraform/README.md.

provider "aws" {
  region = var.aws_region
}

provider "nomad" {
  address   = var.nomad_addr
  secret_id = var.nomad_token
  ca_file   = var.nomad_ca_file
  cert_file = var.nomad_client_cert_file
  key_file  = var.nomad_client_key_file
}

provider "grafana" {
  url  = var.grafana_url
  auth = var.grafana_auth
}

module "cluster" {
  source = "../../modules/cluster"

  ami_id               = var.ami_id
  instance_type        = var.client_nodes.instance_type
  min_nodes            = var.client_nodes.min
  max_nodes            = var.client_nodes.max
  vpc_id               = var.vpc_id
  subnet_ids           = var.subnet_ids
  datacenter           = var.datacenter
  nomad_servers        = var.nomad_servers
  nomad_server_cidr    = var.nomad_server_cidr
  crucible_release_url = var.crucible_release_url

  nomad_ca_pem          = file(var.nomad_ca_file)
  nomad_client_cert_pem = file(var.nomad_client_cert_file)
  nomad_client_key_pem  = file(var.nomad_client_key_file)
}

module "nomad_jobs" {
  source = "../../modules/nomad-jobs"

  datacenters               = [var.datacenter]
  redis_url                 = var.redis_url
  container_runtime         = var.container_runtime
  nomad_addr_for_prometheus = var.nomad_addr

  # Jobs need client nodes to run on.
  depends_on = [module.cluster]
}

module "observability" {
  source = "../../modules/observability"

  prometheus_url = var.prometheus_url

  depends_on = [module.nomad_jobs]
}
