# The Prometheus data source and one Grafana dashboard per generated file in dashboards/generated
# (dashboards as code: dashboards/src → JSON, committed, checked by the dashboards package's tests).

locals {
  dashboards_dir  = "${path.module}/../../../dashboards/generated"
  dashboard_files = fileset(local.dashboards_dir, "*.json")
}

resource "grafana_data_source" "prometheus" {
  type       = "prometheus"
  name       = "Prometheus"
  uid        = "prometheus"
  url        = var.prometheus_url
  is_default = true

  json_data_encoded = jsonencode({
    httpMethod   = "POST"
    timeInterval = "15s"
  })
}

resource "grafana_folder" "crucible" {
  title = var.folder_title
}

resource "grafana_dashboard" "crucible" {
  for_each = local.dashboard_files

  folder      = grafana_folder.crucible.id
  config_json = file("${local.dashboards_dir}/${each.value}")
  overwrite   = true

  # The dashboards pick their data source through a template variable; the data source exists first.
  depends_on = [grafana_data_source.prometheus]
}
