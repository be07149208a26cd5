import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/**
 * Programs that try to exceed each sandbox limit, submitted through the public API, as a hostile
 * client would. Deeper per-sandbox attacks live in executor-agent/test.
 */
describe('sandbox limits hold through the public API', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1' } });
    await p.waitForLanguage('python');
    await p.waitForLanguage('javascript');
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('python: a memory bomb ends as memory_limit', async () => {
    const e = await p.run({ language: 'python', code: 'x = []\nwhile True:\n    x.append(bytearray(1 << 20))', limits: { memoryMb: 64, timeoutMs: 10_000 } });
    assert.equal(e.outcome, 'memory_limit', JSON.stringify(e));
  });

  it('python: an output flood is capped, flagged and ends as output_limit', async () => {
    const e = await p.run({ language: 'python', code: 'while True:\n    print("A" * 1000)', limits: { outputBytes: 10_000 } });
    assert.equal(e.outcome, 'output_limit');
    assert.equal(e.stdoutTruncated, true);
    assert.ok(Buffer.byteLength(e.stdout) <= 10_000);
  });

  it('python: there is no network', async () => {
    const code = [
      'import socket',
      'for host in ["127.0.0.1", "1.1.1.1"]:',
      '    try:',
      '        socket.create_connection((host, 80), timeout=2)',
      '        print("connected", host)',
      '    except OSError as e:',
      '        print("blocked", host)',
    ].join('\n');
    const e = await p.run({ language: 'python', code });
    assert.equal(e.outcome, 'success', e.stderr);
    assert.equal(e.stdout, 'blocked 127.0.0.1\nblocked 1.1.1.1\n');
  });

  it('python: a fork bomb is contained by the pids limit and the deadline', async () => {
    const started = Date.now();
    const e = await p.run({ language: 'python', code: 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass', limits: { pids: 16, timeoutMs: 3000 } });
    assert.ok(['timeout', 'error', 'killed'].includes(e.outcome), e.outcome);
    assert.ok(Date.now() - started < 20_000);
    const after = await p.run({ language: 'python', code: 'print("still fine")' });
    assert.equal(after.stdout, 'still fine\n');
  });

  it('python: cannot write outside /tmp and is not root', async () => {
    const code = 'import os\nprint(os.getuid())\ntry:\n    open("/evil", "w")\n    print("wrote")\nexcept OSError:\n    print("denied")';
    const e = await p.run({ language: 'python', code });
    // Each sandbox runs as its own pooled uid (20000–20255), never root.
    assert.match(e.stdout, /^2\d{4}\ndenied\n$/);
  });

  it('javascript: an infinite loop ends as timeout near its deadline', async () => {
    const started = Date.now();
    const e = await p.run({ language: 'javascript', code: 'while (true) {}', limits: { timeoutMs: 1000 } });
    assert.equal(e.outcome, 'timeout');
    assert.ok(Date.now() - started < 8000);
  });

  it('javascript: a memory bomb ends as memory_limit', async () => {
    const e = await p.run({ language: 'javascript', code: 'const a = []; while (true) a.push("x".repeat(1 << 20) + a.length);', limits: { memoryMb: 32 } });
    assert.equal(e.outcome, 'memory_limit', JSON.stringify(e));
  });

  it('javascript: has no host objects', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log([typeof process, typeof require, typeof fetch, typeof WebAssembly].join(","))' });
    assert.equal(e.stdout, 'undefined,undefined,undefined,undefined\n');
  });
});
