import { dashboard, quantiles, stat, timeseries } from './panels.js';

/** Queue and agents: is there enough capacity, and is work getting stuck? */
export function queueAndAgents() {
  return dashboard('crucible-queue-agents', 'Crucible / Queue and agents', 'Lane depth, running tasks, agents, queue wait, retries and the dead-letter queue.')
    .withPanel(
      stat({
        title: 'Dead-letter queue',
        description: 'Evaluations in status failed: platform faults that outlived every retry. Should be 0.',
        unit: 'short',
        queries: [{ expr: 'sum(crucible_dead_letter_size)' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Agents',
        description: 'Agents with a live heartbeat, reported to the scheduler over Redis.',
        unit: 'short',
        queries: [{ expr: 'sum(crucible_agents)' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Waiting',
        description: 'Tasks waiting in every lane now.',
        unit: 'short',
        queries: [{ expr: 'sum(crucible_queue_depth)' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Running',
        description: 'Tasks an agent has taken and not finished, in every lane.',
        unit: 'short',
        queries: [{ expr: 'sum(crucible_queue_running)' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Queue depth by lane',
        description: 'Tasks waiting per lane (high, normal, low). Growing while agents stay flat is the CrucibleQueueGrowingAgentsFlat alert.',
        unit: 'short',
        queries: [
          { expr: 'sum by (lane) (crucible_queue_depth)', legend: 'waiting {{lane}}' },
          { expr: 'sum by (lane) (crucible_queue_running)', legend: 'running {{lane}}' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Agents by lane and state',
        description: 'Agents per lane, idle or busy. All busy plus a growing queue means more agents are needed.',
        unit: 'short',
        stacked: true,
        queries: [{ expr: 'sum by (lane, state) (crucible_agents)', legend: '{{lane}} {{state}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Agents wanted by the scaler',
        description:
          'The local driver\'s last decision per pool (scheduler/src/scaling.ts: enough agents for what runs plus draining the queue within 10 s, between min and max, within host capacity) against the agents heartbeating. Wanted above live for long means the host has no room or agents fail to start.',
        unit: 'short',
        queries: [
          { expr: 'sum by (pool) (crucible_scaling_desired_agents)', legend: 'wanted {{pool}}' },
          { expr: 'sum(crucible_agents)', legend: 'live agents' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Queue wait',
        description: 'Accepted → an agent started it, p50/p95/p99 by runtime.',
        unit: 's',
        queries: quantiles('crucible_evaluation_queue_wait_seconds', 'runtime'),
      }),
    )
    .withPanel(
      timeseries({
        title: 'Retries and platform faults',
        description: 'Tasks handed back for another attempt, and platform faults by whether they were retried (retrying="false" ends in the dead-letter queue).',
        unit: 'ops',
        queries: [
          { expr: 'sum(rate(crucible_task_retries_total[$__rate_interval]))', legend: 'retries' },
          { expr: 'sum by (retrying) (rate(crucible_platform_faults_total[$__rate_interval]))', legend: 'faults retrying={{retrying}}' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Oldest unfinished evaluation',
        description:
          'Seconds the longest-waiting evaluation of each unfinished status has been in it. Provisioning/running stay below the longest deadline + grace (the overdue backstop fails them then); above 5 minutes is the CrucibleEvaluationStuck alert.',
        unit: 's',
        queries: [{ expr: 'max by (status) (crucible_oldest_unfinished_evaluation_age_seconds)', legend: '{{status}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Reports storage rejected, overdue evaluations',
        description:
          'Reports storage refused (not an outage): retried, dead_lettered (their evaluation failed), dropped (failing it was refused too: should be 0); and evaluations the overdue backstop failed.',
        unit: 'ops',
        queries: [
          { expr: 'sum by (action) (rate(crucible_report_rejections_total[$__rate_interval]))', legend: 'rejected report {{action}}' },
          { expr: 'sum by (status) (rate(crucible_overdue_evaluations_total[$__rate_interval]))', legend: 'overdue {{status}}' },
        ],
      }),
    )
    .build();
}
