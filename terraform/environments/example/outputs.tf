output "nomad_jobs" {
  value = module.nomad_jobs.job_ids
}

output "agent_resources" {
  value = module.nomad_jobs.agent_resources
}

output "client_autoscaling_group" {
  value = module.cluster.autoscaling_group_name
}

output "dashboards" {
  value = module.observability.dashboard_urls
}
