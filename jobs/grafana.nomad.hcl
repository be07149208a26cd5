# grafana: dashboards for Crucible. Data source and dashboards are provisioned by
# terraform/modules/observability through Grafana's API, so this job only runs Grafana.

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

job "grafana" {
  type        = "service"
  datacenters = var.datacenters

  group "grafana" {
    count = 1

    network {
      port "http" {
        static = 3000
      }
    }

    service {
      provider = "nomad"
      name     = "grafana"
      port     = "http"

      check {
        type     = "http"
        path     = "/api/health"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "grafana" {
      driver = "docker"

      config {
        image = "grafana/grafana-oss:11.1.0"
        ports = ["http"]
      }

      env {
        GF_AUTH_ANONYMOUS_ENABLED = "false"
        GF_USERS_ALLOW_SIGN_UP    = "false"
      }

      template {
        destination = "secrets/grafana.env"
        env         = true
        data        = "{{ with nomadVar \"nomad/jobs/grafana\" }}GF_SECURITY_ADMIN_PASSWORD={{ .admin_password }}{{ end }}"
      }

      resources {
        cpu    = 300
        memory = 256
      }
    }
  }
}
