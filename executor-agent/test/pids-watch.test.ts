import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kernelLogsForkRejected } from '../src/sandbox/container/kernel-log.js';
import { parsePidsEvents, PidsWatch, pidsEventsPaths } from '../src/sandbox/container/pids-watch.js';

describe('PidsWatch (reads pids.events of a container cgroup)', () => {
  it('parses the kernel counter', () => {
    assert.equal(parsePidsEvents('max 0\n'), 0);
    assert.equal(parsePidsEvents('max 17\n'), 17);
    assert.equal(parsePidsEvents(''), 0);
  });

  for (const [layout, index] of [['cgroup v1', 0], ['cgroup v2 cgroupfs', 1], ['cgroup v2 systemd', 2]] as const) {
    it(`finds the counter under ${layout} and keeps a hit seen before the cgroup went away`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'pids-watch-'));
      try {
        const file = pidsEventsPaths(root, 'abc')[index]!;
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileSync(file, 'max 0\n');
        const watch = new PidsWatch('abc', root);
        watch.start();
        writeFileSync(file, 'max 3\n');
        await new Promise((r) => setTimeout(r, 500));
        rmSync(join(file, '..'), { recursive: true }); // the engine deletes the cgroup at exit
        assert.equal(await watch.stop(), true);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it('reports false when the counter never moved or was never found', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pids-watch-'));
    try {
      const file = pidsEventsPaths(root, 'abc')[0]!;
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, 'max 0\n');
      const quiet = new PidsWatch('abc', root);
      quiet.start();
      assert.equal(await quiet.stop(), false);
      const missing = new PidsWatch('nothing-here', root);
      missing.start();
      assert.equal(await missing.stop(), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('for a run that did not succeed, a hit the poll missed is taken from the kernel log, and only then', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pids-watch-'));
    try {
      const asked: string[] = [];
      const kernelLog = async (id: string) => (asked.push(id), id === 'bomb');
      const quick = new PidsWatch('bomb', root, kernelLog); // its cgroup was already gone
      quick.start();
      assert.equal(await quick.stop(), false, 'a successful run does not ask');
      assert.deepEqual(asked, []);
      const bomb = new PidsWatch('bomb', root, kernelLog);
      bomb.start();
      assert.equal(await bomb.stop({ askKernelLog: true }), true);
      const other = new PidsWatch('other', root, kernelLog);
      other.start();
      assert.equal(await other.stop({ askKernelLog: true }), false);
      assert.deepEqual(asked, ['bomb', 'other']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("finds the kernel's fork-rejected record of exactly that container", async () => {
    const root = mkdtempSync(join(tmpdir(), 'kmsg-'));
    try {
      const log = join(root, 'kmsg');
      writeFileSync(log, '6,1,2,-;cgroup: something else /docker/abc\n6,2,3,-;cgroup: fork rejected by pids controller in /docker/abc123\n');
      assert.equal(await kernelLogsForkRejected('abc123', log), true);
      assert.equal(await kernelLogsForkRejected('def456', log), false);
      assert.equal(await kernelLogsForkRejected('abc123', join(root, 'missing')), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
