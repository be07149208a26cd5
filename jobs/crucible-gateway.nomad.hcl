# crucible-gateway: the HTTP API, SSE and status site. Runs with CRUCIBLE_SCHEDULER=external (the
# scheduler is its own job) against PostgreSQL and Redis. Health: /readyz (PostgreSQL, Redis,
# runtimes, and the nomad driver's view of Nomad). Secrets come from Nomad Variables, never the jobspec.

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "crucible_dir" {
  type    = string
  default = "/opt/crucible"
}

variable "count" {
  type    = number
  default = 2
}

variable "redis_url" {
  type    = string
  default = "redis://redis.service.consul:6379"
}

job "crucible-gateway" {
  type        = "service"
  datacenters = var.datacenters

  group "gateway" {
    count = var.count

    network {
      port "http" {
        to = 8080
      }
    }

    update {
      max_parallel     = 1
      health_check     = "checks"
      min_healthy_time = "10s"
      auto_revert      = true
    }

    service {
      provider = "nomad"
      name     = "crucible-gateway"
      port     = "http"
      tags     = ["metrics"]

      check {
        name     = "ready"
        type     = "http"
        path     = "/readyz"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "gateway" {
      # exec: chroot + cgroups; the gateway needs no host access beyond its release directory
      # (added to the client's chroot_env by terraform/modules/cluster).
      driver = "exec"

      config {
        command = "/usr/bin/node"
        args    = ["${var.crucible_dir}/gateway/dist/main.js"]
      }

      env {
        CRUCIBLE_HOST         = "0.0.0.0"
        CRUCIBLE_PORT         = "${NOMAD_PORT_http}"
        CRUCIBLE_SCHEDULER    = "external"
        # Agents are dispatched on demand: no agent running is not "not ready".
        CRUCIBLE_DRIVER = "nomad"
        REDIS_URL             = var.redis_url
        CRUCIBLE_REDIS_PREFIX = "crucible"
      }

      template {
        destination = "secrets/db.env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/crucible-gateway" }}DATABASE_URL={{ .database_url }}
          CRUCIBLE_ADMIN_KEY={{ .admin_key }}{{ end }}
        EOT
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
