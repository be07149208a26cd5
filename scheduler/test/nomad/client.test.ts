import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/nomad/api-types.js';
import { NomadClient } from '../../src/nomad/client.js';
import { NomadApiError, NomadUnreachableError } from '../../src/nomad/errors.js';
import { FakeNomad } from './fake-nomad/fake-nomad.js';
import { until } from './helpers.js';

/** A parameterized batch job whose task is a shell line showing what Nomad gave it. */
function echoJob(id: string, script: string): Job {
  return {
    ID: id,
    Name: id,
    Type: 'batch',
    Datacenters: ['dc1'],
    ParameterizedJob: { MetaRequired: ['lane'], MetaOptional: ['note'], Payload: 'optional' },
    TaskGroups: [
      {
        Name: 'g',
        Count: 1,
        Tasks: [
          {
            Name: 't',
            Driver: 'raw_exec',
            Config: { command: '/bin/sh', args: ['-c', script] },
            Env: { LANE: '${NOMAD_META_lane}', WHERE: '${node.unique.name}' },
            DispatchPayload: { File: 'input.txt' },
            Resources: { CPU: 100, MemoryMB: 64 },
          },
        ],
      },
    ],
  };
}

describe('NomadClient against the spec-checked fake', () => {
  let fake: FakeNomad;
  let nomad: NomadClient;

  before(async () => {
    fake = await FakeNomad.start({ token: 'secret-token', namespace: 'crucible' });
    fake.state.addNode('node-a');
    nomad = new NomadClient({ address: fake.address, token: 'secret-token', namespace: 'crucible', region: 'global', retryBaseMs: 10 });
  });
  after(async () => {
    await fake[Symbol.asyncDispose]();
    assert.deepEqual(fake.violations, [], 'every request must validate against the specification');
  });

  test('registers, dispatches with meta and payload, and the task really runs with the Nomad environment', async () => {
    await nomad.registerJob(echoJob('echo', 'echo "lane=$LANE job=$NOMAD_JOB_ID parent=$NOMAD_JOB_PARENT_ID on=$WHERE"; cat "$NOMAD_TASK_DIR/input.txt"'));
    const job = await nomad.job('echo');
    assert.equal(job?.ParameterizedJob?.MetaRequired?.[0], 'lane');
    assert.equal(await nomad.job('nope'), undefined);

    const res = await nomad.dispatch('echo', { meta: { lane: 'high' }, payload: Buffer.from('the payload'), idempotencyToken: 'tok-1' });
    assert.match(res.DispatchedJobID!, /^echo\/dispatch-/);
    const allocs = await until(async () => {
      const { value } = await nomad.jobAllocations(res.DispatchedJobID!);
      return value.length === 1 && value[0]!.ClientStatus === 'complete' ? value : undefined;
    });
    const out = await nomad.allocationLogs(allocs[0]!.ID!, 't', 'stdout');
    assert.equal(out, `lane=high job=${res.DispatchedJobID} parent=echo on=node-a\nthe payload`);
    const evals = await nomad.jobEvaluations(res.DispatchedJobID!);
    assert.equal(evals[0]?.Status, 'complete');
    assert.equal((await nomad.evaluation(evals[0]!.ID!)).JobID, res.DispatchedJobID);
    assert.equal((await nomad.allocation(allocs[0]!.ID!)).Job?.ParentID, 'echo');
  });

  test('the same idempotency token dispatches once', async () => {
    const a = await nomad.dispatch('echo', { meta: { lane: 'low' }, idempotencyToken: 'same' });
    const b = await nomad.dispatch('echo', { meta: { lane: 'low' }, idempotencyToken: 'same' });
    assert.equal(a.DispatchedJobID, b.DispatchedJobID);
    assert.equal(fake.state.dispatchLog.filter((d) => d.token === 'same').length, 1);
  });

  test('Nomad refusing a dispatch is a typed error with its plain-text reason', async () => {
    const err = await nomad.dispatch('echo', { meta: { lane: 'x', bogus: '1' }, idempotencyToken: 't2' }).catch((e: unknown) => e);
    assert.ok(err instanceof NomadApiError);
    assert.equal(err.status, 400);
    assert.match(err.body, /unpermitted metadata keys: \[bogus\]/);
  });

  test('blocking queries wait for a change and return the new index', async () => {
    const first = await nomad.nodes();
    assert.ok(first.index > 0);
    const waiting = nomad.nodes({ resources: true }, { index: first.index, waitMs: 30_000 });
    setTimeout(() => fake.state.addNode('node-b'), 50);
    const next = await waiting;
    assert.ok(next.index > first.index);
    assert.deepEqual(next.value.map((n) => n.Name).sort(), ['node-a', 'node-b']);
    assert.ok(next.value[0]!.NodeResources?.Memory?.MemoryMB);
    // Nothing changes: the query returns when `wait` passes, with the same index.
    const idle = await nomad.nodes({}, { index: next.index, waitMs: 1000 });
    assert.equal(idle.index, next.index);
    assert.ok(fake.requests.some((r) => /\/v1\/nodes\?.*index=\d+.*&wait=1s/.test(r.url)));
  });

  test('schedulable nodes exclude down, ineligible and draining ones', async () => {
    fake.state.addNode('node-c');
    fake.state.addNode('node-d');
    fake.state.setNode('node-b', { Drain: true });
    fake.state.setNode('node-c', { SchedulingEligibility: 'ineligible' });
    fake.state.markNodeDown('node-d');
    assert.deepEqual((await nomad.schedulableNodes()).map((n) => n.Name), ['node-a']);
  });

  test('the event stream delivers allocation events after an index and skips heartbeats', async () => {
    const ac = new AbortController();
    const start = fake.state.index;
    const seen: string[] = [];
    const reading = (async () => {
      for await (const frame of nomad.events({ topics: ['Allocation:*'], index: start, signal: ac.signal })) {
        for (const e of frame.Events) {
          const alloc = e.Payload.Allocation as { ClientStatus: string };
          seen.push(`${e.Topic}:${alloc.ClientStatus}`);
        }
        if (seen.includes('Allocation:complete')) ac.abort();
      }
    })().catch((err: unknown) => {
      if (!ac.signal.aborted) throw err;
    });
    await nomad.dispatch('echo', { meta: { lane: 'normal' }, payload: Buffer.from('x'), idempotencyToken: 'ev-1' });
    await reading;
    assert.deepEqual(seen.slice(0, 3), ['Allocation:pending', 'Allocation:running', 'Allocation:complete']);
  });

  test('scale and scale status; stop and purge', async () => {
    const svc: Job = { ...echoJob('svc', 'sleep 30'), Type: 'service', ParameterizedJob: undefined };
    svc.TaskGroups![0]!.Tasks![0]!.DispatchPayload = undefined;
    await nomad.registerJob(svc);
    await nomad.scale('svc', 'g', 2, 'two please');
    const status = await nomad.scaleStatus('svc');
    assert.equal(status.TaskGroups?.g?.Desired, 2);
    assert.equal(status.TaskGroups?.g?.Events?.[0]?.Message, 'two please');
    await until(async () => (await nomad.jobAllocations('svc')).value.filter((a) => a.ClientStatus === 'running').length === 2 || undefined);
    await nomad.updateJob({ ...svc, Meta: { v: '2' } });
    assert.equal((await nomad.job('svc'))?.Version, 1);
    await nomad.stopJob('svc', { purge: true });
    assert.equal(await nomad.job('svc'), undefined);
  });

  test('5xx and connection errors are retried with backoff; 4xx are not', async () => {
    fake.failNext(2, 500, 'rpc error: No cluster leader', /\/v1\/nodes$/);
    assert.ok((await nomad.nodes()).value.length > 0);
    // Five attempts (the first and four retries), all failing: the last error surfaces.
    fake.failNext(5, 503, 'service unavailable: leadership lost', /\/v1\/nodes$/);
    const err = await nomad.nodes().catch((e: unknown) => e);
    assert.ok(err instanceof NomadApiError);
    assert.equal(err.status, 503);
    assert.match(err.message, /leadership lost/);
    fake.failNext(1, 400, 'bad', /\/v1\/nodes$/);
    const before = fake.requests.length;
    await assert.rejects(nomad.nodes(), (e: unknown) => e instanceof NomadApiError && e.status === 400);
    assert.equal(fake.requests.length - before, 1, 'a 400 is not retried');

    await fake.pause();
    const down = await nomad.nodes().catch((e: unknown) => e);
    assert.ok(down instanceof NomadUnreachableError, String(down));
    // Back within the retry window: the call succeeds.
    const pending = nomad.nodes();
    setTimeout(() => void fake.resume(), 30);
    const slow = new NomadClient({ address: fake.address, token: 'secret-token', namespace: 'crucible', retryBaseMs: 100, retries: 6 });
    assert.ok((await slow.nodes()).value.length > 0);
    await pending.catch(() => undefined);
  });

  test('the token, namespace and region go on every request; a wrong token is refused', async () => {
    const mine = fake.requests.filter((r) => r.url.startsWith('/v1/'));
    assert.ok(mine.every((r) => r.token === 'secret-token'));
    assert.ok(mine.every((r) => r.url.includes('namespace=crucible')));
    const intruder = new NomadClient({ address: fake.address, token: 'wrong', retries: 0 });
    await assert.rejects(intruder.nodes(), (e: unknown) => e instanceof NomadApiError && e.status === 403 && /Permission denied/.test(e.body));
  });

  test('the fake rejects and records requests that depart from the specification', async () => {
    const probe = await FakeNomad.start();
    try {
      const bad = await fetch(`${probe.address}/v1/job/x/dispatch?idempotency_token=a&colour=red`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ JobID: 'x', Metadata: { lane: 1 } }),
      });
      assert.equal(bad.status, 400);
      assert.ok(probe.violations.some((v) => v.includes('"colour" is not defined')));
      assert.ok(probe.violations.some((v) => v.includes('(Metadata)')));
      await fetch(`${probe.address}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Job: { ID: 'j', TaskGroups: [{ Count: 'one' }] } }) });
      assert.ok(probe.violations.some((v) => v.includes('/Job/TaskGroups/0/Count must be integer')));
      await fetch(`${probe.address}/v1/nodes`, { headers: { index: '3' } });
      assert.ok(probe.violations.some((v) => v.includes('index sent as a header')));
      await fetch(`${probe.address}/v1/no/such/thing`);
      assert.ok(probe.violations.some((v) => v.includes('no such operation')));
    } finally {
      await probe[Symbol.asyncDispose]();
    }
  });
});
