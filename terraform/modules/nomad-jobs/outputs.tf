output "job_ids" {
  description = "The registered Nomad job IDs."
  value = {
    executor   = nomad_job.executor.id
    scheduler  = nomad_job.scheduler.id
    gateway    = nomad_job.gateway.id
    prometheus = nomad_job.prometheus.id
    grafana    = nomad_job.grafana.id
  }
}

output "agent_resources" {
  description = "What one executor agent asks of a node."
  value = {
    cpu_mhz   = local.agent_cpu_mhz
    memory_mb = local.agent_memory_mb
  }
}
