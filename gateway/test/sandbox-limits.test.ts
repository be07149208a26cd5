import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/**
 * What the sandbox's kernel says about its network: interfaces (sysfs and if_nameindex), IPv4
 * and IPv6 routes, and every local address. Only when there is no route at all does it try an
 * outside address (which then cannot leave), so on an offline host a refused connection proves
 * nothing by itself: the judgement is the interface and route tables.
 */
const NETWORK_PROBE = [
  'import json, os, socket',
  'ifaces = sorted(os.listdir("/sys/class/net"))',
  'named = sorted(n for _, n in socket.if_nameindex())',
  'v4 = open("/proc/net/route").read().strip().splitlines()[1:]',
  'try:',
  '    v6 = [l for l in open("/proc/net/ipv6_route").read().splitlines() if not l.rstrip().endswith(" lo")]',
  '    a6 = [l.split()[0] for l in open("/proc/net/if_inet6").read().splitlines()]',
  'except OSError:',
  '    v6, a6 = [], []',
  'try:',
  '    trie = open("/proc/net/fib_trie").read().splitlines()',
  '    a4 = sorted({trie[i - 1].split()[-1] for i, l in enumerate(trie) if "/32 host LOCAL" in l})',
  'except OSError:  # gVisor has no fib_trie: ask each interface for its address (SIOCGIFADDR)',
  '    import fcntl, struct',
  '    a4, s = [], socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
  '    for n in named:',
  '        try:',
  '            a4.append(socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", n.encode()))[20:24]))',
  '        except OSError:',
  '            pass',
  'connected = []',
  'if not v4 and not v6:',
  '    for host in ["1.1.1.1"]:',
  '        try:',
  '            socket.create_connection((host, 53), timeout=2).close()',
  '            connected.append(host)',
  '        except OSError:',
  '            pass',
  'print(json.dumps({"ifaces": ifaces, "named": named, "v4routes": v4, "v6routes": v6, "v4addrs": a4, "v6addrs": a6, "connected": connected}))',
].join('\n');

interface NetworkFacts {
  ifaces: string[];
  named: string[];
  v4routes: string[];
  v6routes: string[];
  v4addrs: string[];
  v6addrs: string[];
  connected: string[];
}

/** Everything in `facts` that is more than a lone loopback interface; empty when there is no network. */
function networkProblems(facts: NetworkFacts): string[] {
  const problems: string[] = [];
  if (JSON.stringify(facts.ifaces) !== '["lo"]' || JSON.stringify(facts.named) !== '["lo"]') problems.push(`interfaces ${facts.ifaces} / ${facts.named}`);
  if (facts.v4routes.length > 0) problems.push(`IPv4 routes ${JSON.stringify(facts.v4routes)}`);
  if (facts.v6routes.length > 0) problems.push(`IPv6 routes ${JSON.stringify(facts.v6routes)}`);
  const v4 = facts.v4addrs.filter((a) => !a.startsWith('127.'));
  if (v4.length > 0) problems.push(`IPv4 addresses ${v4}`);
  const v6 = facts.v6addrs.filter((a) => a !== '00000000000000000000000000000001');
  if (v6.length > 0) problems.push(`IPv6 addresses ${v6}`);
  if (facts.connected.length > 0) problems.push(`connected to ${facts.connected}`);
  return problems;
}

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

  it('python: there is no network (only lo, no routes, no address but loopback)', async () => {
    const e = await p.run({ language: 'python', code: NETWORK_PROBE });
    assert.equal(e.outcome, 'success', e.stderr);
    assert.deepEqual(networkProblems(JSON.parse(e.stdout) as NetworkFacts), [], e.stdout);
  });

  it('python: a fork bomb is contained by the pids limit (platform-reported) and the deadline', async () => {
    const e = await p.run({ language: 'python', code: 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass', limits: { pids: 16, timeoutMs: 3000 } });
    assert.equal(e.status, 'completed', JSON.stringify(e));
    assert.equal(e.outcome, 'timeout', JSON.stringify(e));
    // A deadline alone also ends a bomb that has no pids limit: the kernel's refusal is the proof.
    assert.equal(e.pidsLimitHit, true, `the platform saw no fork refused at the pids limit: ${JSON.stringify(e).slice(0, 400)}`);
    // Bounded by the platform's own measure of the run, with generous slack past the 3 s deadline.
    assert.ok(e.durationMs !== null && e.durationMs < 3000 + 10_000, `durationMs ${e.durationMs}`);
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
    const e = await p.run({ language: 'javascript', code: 'while (true) {}', limits: { timeoutMs: 1000 } });
    assert.equal(e.outcome, 'timeout');
    // The platform's own measure of the run, not the test's clock: it ran to about its deadline
    // and was stopped there (generous slack for a loaded machine). About: the Wasm sandbox counts
    // the duration from the worker's start and the deadline from the hand-off to it (seen: 982 ms).
    assert.ok(e.durationMs !== null && e.durationMs >= 900 && e.durationMs < 1000 + 5000, `durationMs ${e.durationMs}`);
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
