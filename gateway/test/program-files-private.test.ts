import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { terminal, waitForStdout } from './event-stream.js';
import { Platform } from './platform.js';

/**
 * Programs' files are private on the host: while a compiled evaluation runs, another local user
 * can neither read its submission nor replace the binary the run executes, and neither can the
 * host uid the sandbox itself runs as. Tried with setpriv, as those users, through the paths the
 * agent really uses (found as root in the agent's directory, which the platform is pointed at).
 */
const exec = promisify(execFile);
/** A host uid no account uses: "any other local user". */
const STRANGER = 4242;

/** Runs `sh -c script` as `uid`; resolves with its exit code and output (never throws). */
async function as(uid: number, script: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'sh', '-c', script]);
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

for (const runtime of ['runc', 'runsc'] as const) {
  describe(`programs' files on ${runtime}`, () => {
    let p: Platform;
    let sandboxDir: string;

    before(async () => {
      // Its own agent directory, so that the directories found there are this evaluation's.
      const parent = await mkdtemp(join(tmpdir(), 'crucible-private-test-'));
      // Like /tmp itself: gVisor's gofer (the engine's remapped root) must reach the code directory.
      await chmod(parent, 0o711);
      sandboxDir = join(parent, 'agent');
      p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_CONTAINER_RUNTIME: runtime, CRUCIBLE_SANDBOX_DIR: sandboxDir } });
      await p.waitForLanguage('c', 180_000);
    });
    after(async () => {
      await p?.[Symbol.asyncDispose]();
      await rm(join(sandboxDir, '..'), { recursive: true, force: true });
    });

    it('another host user cannot read the submission or replace the compiled binary during the run', async () => {
      const secret = randomBytes(8).toString('hex');
      // Named apart from its content, so an error message naming the path shows no secret.
      const marker = `marker-${randomBytes(8).toString('hex')}.txt`;
      const program = '#include <stdio.h>\n#include <unistd.h>\nint main(void) { puts("READY"); fflush(stdout); sleep(6); puts("DONE original"); return 0; }\n';
      const res = await p.request('POST', '/v1/evaluations', {
        language: 'c',
        files: [
          { name: 'main.c', content: program },
          { name: marker, content: secret },
        ],
        limits: { timeoutMs: 20_000 },
      });
      assert.equal(res.status, 202, res.text);
      const id = res.json.id as string;
      await waitForStdout(p, id, /READY\n/);

      // As root (the agent's user): where the files are, and that they are there now.
      const codeParent = join(sandboxDir, 'code');
      const names = await readdir(codeParent);
      const codeDirs = [];
      for (const n of names.filter((n) => n.startsWith('crucible-code-'))) {
        if ((await readdir(join(codeParent, n))).includes(marker)) codeDirs.push(join(codeParent, n));
      }
      assert.equal(codeDirs.length, 1, `the submission's directory among ${names.join(', ')}`);
      const submission = join(codeDirs[0]!, marker);
      assert.equal(await readFile(submission, 'utf8'), secret, 'control: root reads it');
      const sealed = names.filter((n) => n.startsWith('crucible-build-run-')).map((n) => join(codeParent, n, 'main'));
      assert.equal(sealed.length, 1, `the sealed build among ${names.join(', ')}`);
      const binary = sealed[0]!;
      const original = await readFile(binary);
      for (const dir of [sandboxDir, codeParent]) assert.equal((await stat(dir)).mode & 0o007, 0, `${dir} gives others nothing`);
      const sandboxHostUid = 100_000 + Number((await readdir(join(sandboxDir, 'uids'))).find((n) => /^\d+$/.test(n)));
      assert.ok(sandboxHostUid > 100_000, 'the running sandbox holds a pooled uid');

      for (const uid of [STRANGER, sandboxHostUid]) {
        const read = await as(uid, `cat '${submission}'`);
        assert.notEqual(read.code, 0, `uid ${uid} read the submission: ${read.out}`);
        assert.ok(!read.out.includes(secret), `uid ${uid} saw the secret`);
        const list = await as(uid, `ls '${codeParent}'`);
        assert.notEqual(list.code, 0, `uid ${uid} listed the code directories: ${list.out}`);
        const swap = await as(uid, `cp /bin/true '${binary}' || printf x > '${binary}' || mv /dev/null '${binary}'`);
        assert.notEqual(swap.code, 0, `uid ${uid} replaced the binary: ${swap.out}`);
      }
      // The binary itself: owned by the agent, nobody else may write it.
      const info = await stat(binary);
      assert.equal(info.uid, process.getuid!(), 'the sealed binary belongs to the agent');
      assert.equal(info.mode & 0o022, 0, 'group and others cannot write it');
      assert.deepEqual(await readFile(binary), original, 'the binary is unchanged');
      assert.equal(await readFile(submission, 'utf8'), secret, 'control: still running, still there');

      const e = await terminal(p, id);
      assert.equal(e.outcome, 'success', JSON.stringify(e));
      assert.equal(e.stdout, 'READY\nDONE original\n');
      assert.deepEqual((await readdir(codeParent)).filter((n) => n.startsWith('crucible-')), [], 'removed after the run');
    });
  });
}
