import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryWatch, limitReached, parseCounters } from '../src/sandbox/container/memory-watch.js';

const MiB = 1024 * 1024;

describe('MemoryWatch (the memory cgroup\'s word that a container reached its limit)', () => {
  it('parses the kernel counters and judges only the kernel\'s facts', () => {
    assert.deepEqual(parseCounters('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), { oom_kill_disable: 0, under_oom: 0, oom_kill: 2 });
    const calm = { usage: 10 * MiB, limit: 64 * MiB, failures: 0, oomKills: 0, peak: 20 * MiB };
    assert.equal(limitReached(calm), false);
    assert.equal(limitReached({ ...calm, failures: 1 }), true);
    assert.equal(limitReached({ ...calm, oomKills: 1 }), true);
    assert.equal(limitReached({ ...calm, peak: 64 * MiB }), true);
    assert.equal(limitReached({ ...calm, limit: Number.POSITIVE_INFINITY, peak: 1e12 }), false);
  });

  const v1 = (root: string, id: string, f: { usage: number; limit: number; failcnt: number; peak: number; oomKill: number }) => {
    const dir = join(root, 'memory/docker', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'memory.usage_in_bytes'), `${f.usage}\n`);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), `${f.limit}\n`);
    writeFileSync(join(dir, 'memory.failcnt'), `${f.failcnt}\n`);
    writeFileSync(join(dir, 'memory.max_usage_in_bytes'), `${f.peak}\n`);
    writeFileSync(join(dir, 'memory.oom_control'), `oom_kill_disable 0\nunder_oom 0\noom_kill ${f.oomKill}\n`);
    return dir;
  };

  it('keeps a peak at the limit seen before the cgroup went away (cgroup v1)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'memory-watch-'));
    try {
      const dir = v1(root, 'abc', { usage: MiB, limit: 64 * MiB, failcnt: 0, peak: MiB, oomKill: 0 });
      const watch = new MemoryWatch('abc', root);
      watch.start();
      v1(root, 'abc', { usage: 60 * MiB, limit: 64 * MiB, failcnt: 0, peak: 64 * MiB, oomKill: 0 });
      await new Promise((r) => setTimeout(r, 500));
      rmSync(dir, { recursive: true }); // the engine deletes the cgroup at exit
      assert.equal(await watch.stop(), true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads cgroup v2 memory.events, and says false when nothing was reached or nothing found', async () => {
    const root = mkdtempSync(join(tmpdir(), 'memory-watch-'));
    try {
      const dir = join(root, 'docker', 'v2');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'memory.current'), `${MiB}\n`);
      writeFileSync(join(dir, 'memory.max'), `${64 * MiB}\n`);
      writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
      const quiet = new MemoryWatch('v2', root);
      quiet.start();
      assert.equal(await quiet.stop(), false);
      writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
      const hit = new MemoryWatch('v2', root);
      hit.start();
      assert.equal(await hit.stop(), true);
      const missing = new MemoryWatch('nothing-here', root);
      missing.start();
      assert.equal(await missing.stop(), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
