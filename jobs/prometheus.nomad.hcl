# prometheus: scrapes every Crucible component found through Nomad's service discovery (services
# tagged "metrics": crucible-gateway, crucible-scheduler) and Nomad's own metrics, and loads the
# recording and alert rules from dashboards/rules (passed in by terraform as rules_yaml).

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "rules_yaml" {
  description = "Contents of dashboards/rules/*.yml, concatenated by terraform/modules/nomad-jobs."
  type        = string
  default     = "groups: []"
}

variable "nomad_addr" {
  type    = string
  default = "http://127.0.0.1:4646"
}

job "prometheus" {
  type        = "service"
  datacenters = var.datacenters

  group "prometheus" {
    count = 1

    network {
      port "http" {
        static = 9090
      }
    }

    service {
      provider = "nomad"
      name     = "prometheus"
      port     = "http"

      check {
        type     = "http"
        path     = "/-/ready"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "prometheus" {
      driver = "docker"

      config {
        image = "prom/prometheus:v2.53.0"
        ports = ["http"]
        args  = ["--config.file=/local/prometheus.yml", "--storage.tsdb.retention.time=15d"]
      }

      template {
        destination   = "local/prometheus.yml"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          global:
            scrape_interval: 15s
          rule_files: ["/local/rules.yml"]
          scrape_configs:
            - job_name: crucible
              nomad_sd_configs:
                - server: "${var.nomad_addr}"
              relabel_configs:
                - source_labels: [__meta_nomad_tags]
                  regex: ".*,metrics,.*"
                  action: keep
                - source_labels: [__meta_nomad_service]
                  target_label: job
            - job_name: nomad
              metrics_path: /v1/metrics
              params:
                format: [prometheus]
              static_configs:
                - targets: ["{{ env "attr.unique.network.ip-address" }}:4646"]
        EOT
      }

      template {
        destination = "local/rules.yml"
        data        = var.rules_yaml
      }

      resources {
        cpu    = 500
        memory = 1024
      }
    }
  }
}
