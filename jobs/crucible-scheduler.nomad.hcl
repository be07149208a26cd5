# crucible-scheduler: queue scaling, result collection, reconciliation, and the nomad driver that
# dispatches crucible-executor agents. One instance: it is the only writer of dispatch decisions
# (a restarted one reconciles with the allocations already running instead of dispatching again).

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "crucible_dir" {
  type    = string
  default = "/opt/crucible"
}

variable "redis_url" {
  type    = string
  default = "redis://redis.service.consul:6379"
}

variable "nomad_namespace" {
  type    = string
  default = "default"
}

job "crucible-scheduler" {
  type        = "service"
  datacenters = var.datacenters

  group "scheduler" {
    count = 1

    network {
      port "metrics" {
        to = 9465
      }
    }

    service {
      provider = "nomad"
      name     = "crucible-scheduler"
      port     = "metrics"
      tags     = ["metrics"]

      # /readyz: PostgreSQL, Redis and Nomad answer (503 with the failing one otherwise).
      check {
        name     = "ready"
        type     = "http"
        path     = "/readyz"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "scheduler" {
      driver = "exec"

      config {
        command = "/usr/bin/node"
        args    = ["${var.crucible_dir}/scheduler/dist/main.js"]
      }

      env {
        CRUCIBLE_DRIVER                 = "nomad"
        NOMAD_ADDR                      = "https://${attr.unique.network.ip-address}:4646"
        NOMAD_NAMESPACE                 = var.nomad_namespace
        NOMAD_CACERT                    = "${NOMAD_SECRETS_DIR}/nomad-ca.pem"
        REDIS_URL                       = var.redis_url
        CRUCIBLE_REDIS_PREFIX           = "crucible"
        CRUCIBLE_SCHEDULER_METRICS_HOST = "0.0.0.0"
        CRUCIBLE_SCHEDULER_METRICS_PORT = "${NOMAD_PORT_metrics}"
      }

      # The Nomad token only needs submit-job/dispatch-job/read-job on its namespace and node:read.
      template {
        destination = "secrets/scheduler.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/crucible-scheduler" }}DATABASE_URL={{ .database_url }}
          NOMAD_TOKEN={{ .nomad_token }}{{ end }}
        EOT
      }

      template {
        destination = "secrets/nomad-ca.pem"
        data        = "{{ with nomadVar \"nomad/jobs/crucible-scheduler\" }}{{ .nomad_ca_pem }}{{ end }}"
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
