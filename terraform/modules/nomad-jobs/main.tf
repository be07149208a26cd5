# Registers every job in jobs/ with Nomad. The HCL files are the single source of truth; this
# module only fills in their variables.

locals {
  jobs_dir  = "${path.module}/../../../jobs"
  rules_dir = "${path.module}/../../../dashboards/rules"

  # An agent asks for its own overhead plus agent_concurrency programs at the lane's limits, so
  # Nomad bin-packs agents by what their sandboxes may really use (the scheduler sizes jobs it
  # registers itself the same way: scheduler/src/nomad/executor-job.ts).
  agent_cpu_mhz   = 200 + var.agent_concurrency * ceil(var.lane_max_cpus * 1000)
  agent_memory_mb = 256 + var.agent_concurrency * var.lane_max_memory_mb

  rules_yaml = file("${local.rules_dir}/crucible.rules.yml")
}

resource "nomad_job" "executor" {
  jobspec = file("${local.jobs_dir}/crucible-executor.nomad.hcl")

  hcl2 {
    vars = {
      datacenters       = jsonencode(var.datacenters)
      crucible_dir      = var.crucible_dir
      redis_url         = var.redis_url
      redis_prefix      = var.redis_prefix
      container_runtime = var.container_runtime
      agent_concurrency = tostring(var.agent_concurrency)
      agent_cpu_mhz     = tostring(local.agent_cpu_mhz)
      agent_memory_mb   = tostring(local.agent_memory_mb)
    }
  }

  # A parameterized job has no allocations of its own; the scheduler dispatches it.
  detach = true
}

resource "nomad_job" "scheduler" {
  jobspec = file("${local.jobs_dir}/crucible-scheduler.nomad.hcl")

  hcl2 {
    vars = {
      datacenters     = jsonencode(var.datacenters)
      crucible_dir    = var.crucible_dir
      redis_url       = var.redis_url
      nomad_namespace = var.nomad_namespace
    }
  }

  # The scheduler dispatches the executor job, so it must exist first.
  depends_on = [nomad_job.executor]
}

resource "nomad_job" "gateway" {
  jobspec = file("${local.jobs_dir}/crucible-gateway.nomad.hcl")

  hcl2 {
    vars = {
      datacenters  = jsonencode(var.datacenters)
      crucible_dir = var.crucible_dir
      redis_url    = var.redis_url
      count        = tostring(var.gateway_count)
    }
  }

  depends_on = [nomad_job.scheduler]
}

resource "nomad_job" "prometheus" {
  jobspec = file("${local.jobs_dir}/prometheus.nomad.hcl")

  hcl2 {
    vars = {
      datacenters = jsonencode(var.datacenters)
      rules_yaml  = local.rules_yaml
      nomad_addr  = var.nomad_addr_for_prometheus
    }
  }
}

resource "nomad_job" "grafana" {
  jobspec = file("${local.jobs_dir}/grafana.nomad.hcl")

  hcl2 {
    vars = {
      datacenters = jsonencode(var.datacenters)
    }
  }
}
