import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import wabtInit from 'wabt';
import { parseSse, waitFor } from './helpers.js';
import { Platform } from './platform.js';

describe('evaluations through the HTTP API (python in Docker, javascript and WASI in Wasm)', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '2' } });
    await p.waitForLanguage('python');
    await p.waitForLanguage('javascript');
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('runs print(6*7) in python to success', async () => {
    const e = await p.run({ language: 'python', code: 'print(6*7)' });
    assert.equal(e.status, 'completed');
    assert.equal(e.outcome, 'success');
    assert.equal(e.stdout, '42\n');
    assert.equal(e.exitCode, 0);
    assert.equal(e.runtime, 'container');
    assert.equal(e.attempts, 1);
    assert.ok(e.startedAt && e.finishedAt && e.durationMs !== null);
  });

  it('delivers stdin to the program', async () => {
    const e = await p.run({ language: 'python', code: 'import sys\nprint(sys.stdin.read().upper(), end="")', stdin: 'hello crucible\n' });
    assert.equal(e.outcome, 'success', e.stderr);
    assert.equal(e.stdout, 'HELLO CRUCIBLE\n');
  });

  it('keeps stderr and the exit code of a failing program', async () => {
    const e = await p.run({ language: 'python', code: 'import sys\nprint("bad thing", file=sys.stderr)\nsys.exit(3)' });
    assert.equal(e.status, 'completed');
    assert.equal(e.outcome, 'error');
    assert.equal(e.exitCode, 3);
    assert.match(e.stderr, /bad thing/);
  });

  it('ends a sleeping program as timeout within a few seconds of its deadline', async () => {
    const e = await p.run({ language: 'python', code: 'import time\ntime.sleep(60)', limits: { timeoutMs: 2000 } });
    assert.equal(e.status, 'completed');
    assert.equal(e.outcome, 'timeout');
    // Judged by what the platform reports (a loaded host makes the test's own clock meaningless):
    // the sandbox ran from its deadline to a few seconds past it, and the platform's startedAt ..
    // finishedAt (which adds container start and removal) stays far from the program's 60 s.
    assert.ok(e.durationMs >= 2000 - 100 && e.durationMs <= 2000 + 5000, `durationMs ${e.durationMs}, deadline 2000 ms`);
    const span = Date.parse(e.finishedAt) - Date.parse(e.startedAt);
    assert.ok(span >= e.durationMs - 1000 && span < 2000 + 20_000, `startedAt..finishedAt ${span} ms`);
  });

  it('runs javascript in the Wasm runtime', async () => {
    const e = await p.run({ language: 'javascript', runtime: 'wasm', code: 'console.log(6*7)' });
    assert.equal(e.outcome, 'success', e.stderr);
    assert.equal(e.runtime, 'wasm');
    assert.equal(e.stdout, '42\n');
  });

  it('runs a WASI module given as .wat text and as a base64 .wasm file', async () => {
    const wat = `(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1 1)
      (data (i32.const 16) "hello from wasi\\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 16))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;
    const text = await p.run({ language: 'wasm', code: wat });
    assert.equal(text.outcome, 'success', text.stderr);
    assert.equal(text.stdout, 'hello from wasi\n');

    const wabt = await wabtInit();
    const binary = wabt.parseWat('hello.wat', wat).toBinary({}).buffer;
    const bin = await p.run({ language: 'wasm', files: [{ name: 'hello.wasm', content: Buffer.from(binary).toString('base64'), encoding: 'base64' }] });
    assert.equal(bin.outcome, 'success', bin.stderr);
    assert.equal(bin.stdout, 'hello from wasi\n');
  });

  it('streams events over SSE: replay, follow, done, close', async () => {
    const submit = await p.request('POST', '/v1/evaluations', {
      language: 'python',
      code: 'import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)',
    });
    assert.equal(submit.status, 202);
    const res = await fetch(`${p.url}/v1/evaluations/${submit.json.id}/events`, { headers: p.auth() });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const body = await res.text(); // ends only because the server closes after `done`
    const events = parseSse(body);
    const statuses = events.filter((e) => e.event === 'status').map((e) => e.data.status);
    assert.deepEqual(statuses[0], 'queued');
    assert.ok(statuses.includes('running'));
    assert.equal(statuses.at(-1), 'completed');
    assert.equal(events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join(''), '0\n1\n2\n');
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.equal(done.data.outcome, 'success');
    // After completion the same stream replays everything, then closes.
    const replay = parseSse(await (await fetch(`${p.url}/v1/evaluations/${submit.json.id}/events`, { headers: p.auth() })).text());
    assert.deepEqual(replay.map((e) => e.event), events.map((e) => e.event));
  });

  it('follows every status change of the caller on /v1/events', async () => {
    const ac = new AbortController();
    const res = await fetch(`${p.url}/v1/events`, { signal: ac.signal, headers: p.auth() });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const { value, done: end } = await reader.read();
        if (end) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(() => text.includes(': following'));
    const submit = await p.request('POST', '/v1/evaluations', { language: 'javascript', code: 'console.log(1)' });
    const id = submit.json.id as string;
    await readUntil(() => parseSse(text).some((e) => e.data.id === id && e.data.status === 'completed'));
    ac.abort();
    const mine = parseSse(text).filter((e) => e.data.id === id);
    assert.deepEqual(mine.map((e) => e.data.status), ['queued', 'running', 'completed']);
    assert.equal(mine.at(-1)!.data.outcome, 'success');
    assert.ok(mine.every((e) => e.event === 'status'));
  });

  it('cancels a running evaluation promptly; cancelling again is a no-op', async () => {
    const submit = await p.request('POST', '/v1/evaluations', { language: 'python', code: 'import time\nprint("started", flush=True)\ntime.sleep(30)' });
    const id = submit.json.id;
    await waitFor(async () => (await p.request('GET', `/v1/evaluations/${id}`)).json.status === 'running');
    const cancel = await p.request('POST', `/v1/evaluations/${id}/cancel`);
    assert.equal(cancel.status, 200);
    assert.equal(cancel.json.status, 'cancelled');
    // The agent's report of the killed run ends it, keeping what it printed before.
    assert.equal(cancel.json.outcome, 'killed');
    assert.equal(cancel.json.stdout, 'started\n');
    const again = await p.request('POST', `/v1/evaluations/${id}/cancel`);
    assert.equal(again.status, 200);
    assert.equal(again.json.status, 'cancelled');
    // The sandbox is gone soon after: the agent is free to run the next task quickly.
    const next = await p.run({ language: 'javascript', code: 'console.log("free")' });
    assert.equal(next.stdout, 'free\n');
  });

  it('submits a batch with per-item results in input order', async () => {
    const res = await p.request('POST', '/v1/evaluations/batch', {
      evaluations: [
        { language: 'javascript', code: 'console.log(1)' },
        { language: 'cobol', code: 'DISPLAY 1' },
        { language: 'javascript', code: 'console.log(2)', limits: { memoryMb: 999_999 } },
        { language: 'javascript', code: 'console.log(3)' },
      ],
    });
    assert.equal(res.status, 202);
    assert.equal(res.json.items.length, 4);
    assert.equal(res.json.items[0].status, 'queued');
    assert.equal(res.json.items[1].error.code, 'unknown_language');
    assert.equal(res.json.items[2].error.code, 'invalid_request');
    assert.equal(res.json.items[3].status, 'queued');
    for (const item of [res.json.items[0], res.json.items[3]]) {
      await waitFor(async () => (await p.request('GET', `/v1/evaluations/${item.id}`)).json.status === 'completed');
    }
  });

  it('lists evaluations newest first with cursor pagination and filters', async () => {
    const first = await p.request('GET', '/v1/evaluations?limit=2');
    assert.equal(first.status, 200);
    assert.equal(first.json.items.length, 2);
    assert.ok(first.json.nextCursor);
    const second = await p.request('GET', `/v1/evaluations?limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`);
    assert.equal(second.status, 200);
    const ids = new Set([...first.json.items, ...second.json.items].map((e: { id: string }) => e.id));
    assert.equal(ids.size, first.json.items.length + second.json.items.length, 'pages do not overlap');
    assert.ok(Date.parse(first.json.items[0].createdAt) >= Date.parse(first.json.items[1].createdAt));
    const python = await p.request('GET', '/v1/evaluations?language=python&status=completed&limit=200');
    assert.ok(python.json.items.length >= 3);
    assert.ok(python.json.items.every((e: { language: string; status: string }) => e.language === 'python' && e.status === 'completed'));
  });
});
