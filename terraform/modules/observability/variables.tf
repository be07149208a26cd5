variable "prometheus_url" {
  description = "Prometheus as Grafana reaches it, e.g. http://prometheus.service.nomad:9090."
  type        = string
}

variable "folder_title" {
  type    = string
  default = "Crucible"
}
