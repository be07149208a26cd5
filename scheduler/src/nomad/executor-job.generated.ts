// Generated from jobs/crucible-executor.nomad.hcl by scheduler/scripts/executor-job.ts. Do not edit.
import type { Job } from './api-types.js';

/** The crucible-executor job with the HCL variables at their defaults; the driver fills in its own settings. */
export const EXECUTOR_JOB: Readonly<Job> = {
  "ID": "crucible-executor",
  "Name": "crucible-executor",
  "Constraints": [
    {
      "LTarget": "${meta.crucible_executor}",
      "RTarget": "true",
      "Operand": "="
    }
  ],
  "Datacenters": [
    "dc1"
  ],
  "TaskGroups": [
    {
      "Name": "agent",
      "Count": 1,
      "EphemeralDisk": {
        "SizeMB": 300
      },
      "ReschedulePolicy": {
        "Attempts": 0,
        "Unlimited": false,
        "Interval": 0,
        "Delay": 5000000000
      },
      "RestartPolicy": {
        "Attempts": 0,
        "Mode": "fail",
        "Delay": 15000000000,
        "Interval": 86400000000000
      },
      "Tasks": [
        {
          "Name": "agent",
          "Config": {
            "args": [
              "/opt/crucible/executor-agent/dist/main.js"
            ],
            "command": "/usr/bin/node"
          },
          "Driver": "raw_exec",
          "Env": {
            "CRUCIBLE_AGENT_CONCURRENCY": "2",
            "CRUCIBLE_AGENT_ID": "nomad-${NOMAD_ALLOC_ID}",
            "CRUCIBLE_AGENT_IDLE_TIMEOUT_MS": "${NOMAD_META_idle_timeout_ms}",
            "CRUCIBLE_AGENT_MAX_TASKS": "${NOMAD_META_max_tasks}",
            "CRUCIBLE_CONTAINER_RUNTIME": "runsc",
            "CRUCIBLE_LANES": "${NOMAD_META_lane}",
            "CRUCIBLE_LOG_LEVEL": "info",
            "CRUCIBLE_NODE": "${node.unique.name}",
            "CRUCIBLE_REDIS_PREFIX": "crucible",
            "DOCKER_HOST": "unix:///var/run/docker.sock",
            "REDIS_URL": "redis://redis.service.consul:6379"
          },
          "KillSignal": "SIGTERM",
          "KillTimeout": 45000000000,
          "LogConfig": {
            "MaxFiles": 3,
            "MaxFileSizeMB": 10
          },
          "Resources": {
            "CPU": 2200,
            "MemoryMB": 1280
          }
        }
      ]
    }
  ],
  "Meta": {
    "idle_timeout_ms": "60000",
    "max_tasks": "0"
  },
  "ParameterizedJob": {
    "Payload": "forbidden",
    "MetaRequired": [
      "lane"
    ],
    "MetaOptional": [
      "max_tasks",
      "idle_timeout_ms"
    ]
  },
  "Priority": 60,
  "Type": "batch"
};
