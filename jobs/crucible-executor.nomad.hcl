# crucible-executor: one executor agent for one lane, dispatched by the scheduler's nomad driver
# (CRUCIBLE_DRIVER=nomad). It drains its lane and exits when idle (meta idle_timeout_ms) or after
# max_tasks tasks. Why raw_exec, and what isolates what: jobs/README.md.
#
# This file is the one source of truth: the scheduler's JSON form
# (scheduler/src/nomad/executor-job.generated.ts) is generated from it in the build, and a test
# checks that they agree.

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

variable "crucible_dir" {
  description = "Where the Crucible release is unpacked on executor nodes (terraform/modules/cluster installs it)."
  type        = string
  default     = "/opt/crucible"
}

variable "node_binary" {
  type    = string
  default = "/usr/bin/node"
}

variable "redis_url" {
  type    = string
  default = "redis://redis.service.consul:6379"
}

variable "redis_prefix" {
  type    = string
  default = "crucible"
}

variable "container_runtime" {
  description = "runsc (gVisor) on nodes that have it; runc otherwise."
  type        = string
  default     = "runsc"
}

variable "docker_host" {
  type    = string
  default = "unix:///var/run/docker.sock"
}

variable "agent_concurrency" {
  description = "Tasks one agent runs at once."
  type        = number
  default     = 2
}

variable "agent_cpu_mhz" {
  description = "Agent overhead plus agent_concurrency x the lane's CPU limit (1 CPU ~ 1000 MHz)."
  type        = number
  default     = 2200
}

variable "agent_memory_mb" {
  description = "Agent overhead (256 MB) plus agent_concurrency x the lane's memory limit (512 MB)."
  type        = number
  default     = 1280
}

job "crucible-executor" {
  type        = "batch"
  datacenters = var.datacenters
  priority    = 60

  parameterized {
    payload       = "forbidden"
    meta_required = ["lane"]
    meta_optional = ["max_tasks", "idle_timeout_ms"]
  }

  # Defaults for the optional dispatch meta.
  meta {
    max_tasks       = "0"
    idle_timeout_ms = "60000"
  }

  # Only nodes provisioned for untrusted code (Docker with runsc, user-namespace remapping) opt in.
  constraint {
    attribute = "${meta.crucible_executor}"
    value     = "true"
  }

  group "agent" {
    count = 1

    # A dead agent is not restarted or rescheduled by Nomad: its tasks are recovered by the
    # queue's stall check and the scheduler dispatches a replacement if the lane still needs one.
    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    ephemeral_disk {
      size = 300
    }

    task "agent" {
      driver = "raw_exec"

      config {
        command = var.node_binary
        args    = ["${var.crucible_dir}/executor-agent/dist/main.js"]
      }

      env {
        REDIS_URL                      = var.redis_url
        CRUCIBLE_REDIS_PREFIX          = var.redis_prefix
        CRUCIBLE_LANES                 = "${NOMAD_META_lane}"
        CRUCIBLE_AGENT_MAX_TASKS       = "${NOMAD_META_max_tasks}"
        CRUCIBLE_AGENT_IDLE_TIMEOUT_MS = "${NOMAD_META_idle_timeout_ms}"
        CRUCIBLE_AGENT_ID              = "nomad-${NOMAD_ALLOC_ID}"
        CRUCIBLE_NODE                  = "${node.unique.name}"
        CRUCIBLE_AGENT_CONCURRENCY     = var.agent_concurrency
        CRUCIBLE_CONTAINER_RUNTIME     = var.container_runtime
        DOCKER_HOST                    = var.docker_host
        CRUCIBLE_LOG_LEVEL             = "info"
      }

      resources {
        cpu    = var.agent_cpu_mhz
        memory = var.agent_memory_mb
      }

      # SIGTERM: the agent stops taking tasks and lets running ones finish (up to a lane's
      # maximum timeout, 30 s by default) before Nomad kills it.
      kill_signal  = "SIGTERM"
      kill_timeout = "45s"

      logs {
        max_files     = 3
        max_file_size = 10
      }
    }
  }
}
