output "dashboard_urls" {
  description = "Dashboard file → its URL path in Grafana."
  value       = { for file, d in grafana_dashboard.crucible : file => d.url }
}

output "data_source_uid" {
  value = grafana_data_source.prometheus.uid
}
