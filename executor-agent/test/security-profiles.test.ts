// Unit tests of the sandbox's security layers that need no engine: the seccomp profile's content,
// the AppArmor decision both ways, the engine mode and the self-test's judgement of probe results.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { engineMode, engineProblems } from '../src/sandbox/container/engine-check.js';
import { decideAppArmor, loadSeccompProfile, readLoadedAppArmorProfiles, SECURITY_DIR } from '../src/sandbox/container/security-profiles.js';
import { judgeConfinement, judgeMemory, judgePids } from '../src/sandbox/container/self-test.js';

/** Every call the issue requires denied beyond Docker's default. */
const MUST_DENY = [
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'bpf', 'perf_event_open', 'userfaultfd', 'keyctl', 'add_key', 'request_key',
  'unshare', 'setns', 'mount', 'umount', 'umount2', 'pivot_root', 'init_module', 'finit_module', 'delete_module', 'kexec_load',
  'kexec_file_load', 'reboot', 'swapon', 'swapoff', 'clock_settime', 'clock_adjtime', 'settimeofday', 'adjtimex', 'acct', 'quotactl',
  'io_uring_setup', 'open_by_handle_at', 'syslog', 'chroot', 'iopl', 'ioperm', 'fsopen', 'fsmount', 'move_mount', 'open_tree',
  // Per-user or host-wide kernel budgets no rlimit bounds, memfd exec past noexec, host-wide write-back.
  'inotify_init', 'inotify_init1', 'io_setup', 'memfd_create', 'sync', 'syncfs', 'fanotify_init',
];

interface Rule {
  names: string[];
  action: string;
  args?: { index: number; value: number; op: string }[];
}

describe('seccomp profile', async () => {
  const raw = JSON.parse(await readFile(join(SECURITY_DIR, 'seccomp.json'), 'utf8')) as { defaultAction: string; architectures: string[]; syscalls: Rule[] };
  const allowed = (name: string) => raw.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(name));

  it('is an allowlist that fails everything else with EPERM, on the native architectures only', () => {
    assert.equal(raw.defaultAction, 'SCMP_ACT_ERRNO');
    assert.ok(!raw.architectures.includes('SCMP_ARCH_X86'), 'the 32-bit table stays closed');
  });

  it('allows none of the calls the sandbox must deny', () => {
    for (const name of MUST_DENY) assert.deepEqual(allowed(name), [], name);
  });

  it('answers inotify and native AIO with ENOSYS, so programs fall back to polling and threads', () => {
    for (const name of ['inotify_init', 'inotify_init1', 'io_setup']) {
      const rules = raw.syscalls.filter((r) => r.names.includes(name));
      assert.deepEqual(rules.map((r) => [r.action, (r as { errnoRet?: number }).errnoRet]), [['SCMP_ACT_ERRNO', 38]], name);
    }
  });

  it('allows clone only without namespace flags, and personality only to read it', () => {
    const clone = allowed('clone');
    assert.equal(clone.length, 1);
    assert.deepEqual(clone[0]!.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
    const personality = allowed('personality').map((r) => r.args?.[0]?.value).sort();
    assert.deepEqual(personality, [0, 0xffffffff]);
    assert.ok(allowed('socket').every((r) => r.args?.[0]?.op === 'SCMP_CMP_EQ'), 'socket only for listed families');
  });

  it('loads minified with a version, and refuses a profile that is not an allowlist', async () => {
    const p = await loadSeccompProfile();
    assert.deepEqual(JSON.parse(p.json), raw);
    assert.match(p.version, /^[0-9a-f]{12}$/);
    await assert.rejects(loadSeccompProfile('/nonexistent'));
  });
});

describe('AppArmor detection', () => {
  it('applies the profile when the host has AppArmor and the profile is loaded', () => {
    const status = decideAppArmor({
      engineSecurityOptions: ['name=apparmor', 'name=seccomp,profile=default', 'name=userns'],
      loadedProfiles: 'docker-default (enforce)\ncrucible-sandbox (enforce)\n',
    });
    assert.deepEqual(status, { state: 'applied', profile: 'crucible-sandbox' });
  });

  it('says so and carries on when AppArmor is enabled but the profile is not loaded', () => {
    const status = decideAppArmor({ engineSecurityOptions: ['name=apparmor'], loadedProfiles: 'docker-default (enforce)\n' });
    assert.equal(status.state, 'unavailable');
    assert.match((status as { reason: string }).reason, /not loaded/);
  });

  it('says so and carries on when the host has no AppArmor, as on this machine', async () => {
    const status = decideAppArmor({ engineSecurityOptions: ['name=seccomp,profile=default', 'name=userns'], loadedProfiles: undefined });
    assert.equal(status.state, 'unavailable');
    assert.match((status as { reason: string }).reason, /no AppArmor/);
    // This host: the kernel has no AppArmor, so nothing is readable there.
    assert.equal(await readLoadedAppArmorProfiles(), undefined);
  });

  it('ships the profile it names', async () => {
    assert.match(await readFile(join(SECURITY_DIR, 'apparmor-profile'), 'utf8'), /^profile crucible-sandbox /m);
  });
});

describe('engine mode', () => {
  const base = { MemoryLimit: true, SwapLimit: true, PidsLimit: true, CpuCfsQuota: true, Runtimes: { runc: {} } };
  it('tells a userns-remapped engine from a rootless one, and the rootless cgroup v1 trap', () => {
    assert.deepEqual(engineMode({ ...base, CgroupVersion: '1', SecurityOptions: ['name=seccomp', 'name=userns'] }), { mode: 'rootful-userns', cgroup: 'v1', memory: 'cgroup' });
    assert.deepEqual(engineMode({ ...base, CgroupVersion: '2', SecurityOptions: ['name=seccomp', 'name=rootless'] }), { mode: 'rootless', cgroup: 'v2', memory: 'cgroup' });
    const trap = { ...base, CgroupVersion: '1', SecurityOptions: ['name=seccomp', 'name=rootless'] };
    assert.deepEqual(engineMode(trap), { mode: 'rootless', cgroup: 'v1', memory: 'not enforced' });
    assert.match(engineProblems(trap, 'runc').join(), /refusing/);
  });
});

describe('self-test judgement', () => {
  const r = (outcome: string, stdout = '', stderr = '', exitCode: number | null = null) => ({ outcome: outcome as 'success', stdout, stderr, exitCode });
  it('memory: only memory_limit passes', () => {
    assert.deepEqual(judgeMemory(r('memory_limit')), []);
    assert.deepEqual(judgeMemory(r('error', '', '', 137)), [], 'a SIGKILL we did not send: the OOM killer under gVisor');
    assert.match(judgeMemory(r('error', '', '', 1)).join(), /unverified/);
    assert.match(judgeMemory(r('success', 'HELD 256\n')).join(), /not enforced/);
    assert.match(judgeMemory(r('error', '', 'boom')).join(), /unverified/);
  });
  it('pids: fewer forks than the limit, or a sandbox that died trying, passes', () => {
    assert.deepEqual(judgePids(r('success', 'FORKED 5\n')), []);
    assert.deepEqual(judgePids(r('error')), []);
    assert.match(judgePids(r('success', 'FORKED 256\n')).join(), /pids limit not enforced/);
    assert.match(judgePids(r('success')).join(), /unverified/);
  });
  it('network and root filesystem', () => {
    const good = { ifaces: ['lo'], routes: 0, connect: 'failed', rootfs: 'read-only' };
    assert.deepEqual(judgeConfinement(r('success', JSON.stringify(good))), []);
    assert.match(judgeConfinement(r('success', JSON.stringify({ ...good, ifaces: ['eth0', 'lo'], routes: 1 }))).join(), /interfaces/);
    assert.match(judgeConfinement(r('success', JSON.stringify({ ...good, connect: 'connected' }))).join(), /reachable/);
    assert.match(judgeConfinement(r('success', JSON.stringify({ ...good, rootfs: 'writable' }))).join(), /writable/);
    assert.match(judgeConfinement(r('error', 'garbage')).join(), /no findings/);
  });
});
