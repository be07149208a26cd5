import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/**
 * Every language runtime through the public API: its smoke test prints OK, and a multi-file
 * program gets stdin and args; compiled languages carry their compile step.
 */
const RUNTIMES_DIR = resolve(import.meta.dirname, '../../executor-agent/runtimes');
const CONTAINER = ['python', 'python-ml', 'javascript-node', 'bash', 'c', 'cpp'];

/** Two files each (the first is main): the second supplies `f`, which upper-cases stdin. */
const MULTI_FILE: Record<string, { name: string; content: string }[]> = {
  python: [
    { name: 'main.py', content: 'import sys, lib\nprint(lib.f(sys.stdin.read()), *sys.argv[1:])\n' },
    { name: 'lib.py', content: 'def f(s):\n    return "lib:" + s.strip().upper()\n' },
  ],
  'python-ml': [
    { name: 'main.py', content: 'import sys, numpy, lib\nprint(lib.f(sys.stdin.read()), *sys.argv[1:])\n' },
    { name: 'lib.py', content: 'def f(s):\n    return "lib:" + s.strip().upper()\n' },
  ],
  'javascript-node': [
    { name: 'main.js', content: "const lib = require('./lib.js');\nconsole.log(lib.f(require('fs').readFileSync(0, 'utf8')), ...process.argv.slice(2));\n" },
    { name: 'lib.js', content: "exports.f = (s) => 'lib:' + s.trim().toUpperCase();\n" },
  ],
  bash: [
    { name: 'main.sh', content: 'source /code/lib.sh\nread -r line\necho "$(f "$line")" "$@"\n' },
    { name: 'lib.sh', content: 'f() { echo "lib:${1^^}"; }\n' },
  ],
  c: [
    {
      name: 'main.c',
      content:
        '#include <stdio.h>\n#include <string.h>\nvoid f(char *s);\nint main(int argc, char **argv) {\n  char buf[256] = {0};\n  if (!fgets(buf, sizeof buf, stdin)) return 1;\n  buf[strcspn(buf, "\\n")] = 0;\n  f(buf);\n  printf("lib:%s", buf);\n  for (int i = 1; i < argc; i++) printf(" %s", argv[i]);\n  printf("\\n");\n  return 0;\n}\n',
    },
    { name: 'util.c', content: '#include <ctype.h>\nvoid f(char *s) { for (; *s; s++) *s = (char)toupper((unsigned char)*s); }\n' },
  ],
  cpp: [
    {
      name: 'main.cpp',
      content:
        '#include <iostream>\n#include <string>\nstd::string f(std::string s);\nint main(int argc, char **argv) {\n  std::string line;\n  std::getline(std::cin, line);\n  std::cout << f(line);\n  for (int i = 1; i < argc; i++) std::cout << " " << argv[i];\n  std::cout << std::endl;\n}\n',
    },
    { name: 'util.cpp', content: '#include <algorithm>\n#include <string>\nstd::string f(std::string s) {\n  std::transform(s.begin(), s.end(), s.begin(), ::toupper);\n  return "lib:" + s;\n}\n' },
  ],
  javascript: [{ name: 'main.js', content: 'console.log("lib:" + stdin.trim().toUpperCase(), ...args)' }],
};

describe('language runtimes through the public API', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1' } });
    for (const id of [...CONTAINER, 'javascript', 'wasm']) await p.waitForLanguage(id, 180_000);
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('lists every runtime with a version', async () => {
    const langs = (await p.request('GET', '/v1/languages')).json as { id: string; available: boolean; version: string; runtime: string }[];
    for (const id of [...CONTAINER, 'javascript', 'wasm']) {
      const l = langs.find((x) => x.id === id);
      assert.ok(l?.available, id);
      assert.ok(l.version && l.version !== 'unknown', `${id} version ${l.version}`);
    }
  });

  for (const id of CONTAINER) {
    it(`${id}: the smoke test prints OK`, async () => {
      const def = JSON.parse(readFileSync(resolve(RUNTIMES_DIR, id, 'runtime.json'), 'utf8')) as { smoke: string };
      const content = readFileSync(resolve(RUNTIMES_DIR, id, def.smoke), 'utf8');
      const e = await p.run({ language: id, files: [{ name: def.smoke, content }], limits: { timeoutMs: 30_000 } }, 60);
      assert.equal(e.outcome, 'success', JSON.stringify(e));
      assert.equal(e.stdout, 'OK\n');
    });
  }

  for (const [id, files] of Object.entries(MULTI_FILE)) {
    it(`${id}: several files, stdin and args`, async () => {
      const e = await p.run({ language: id, files, stdin: 'hello\n', args: ['a', 'b c'], limits: { timeoutMs: 30_000 } }, 60);
      assert.equal(e.outcome, 'success', JSON.stringify(e));
      assert.equal(e.stdout, 'lib:HELLO a b c\n');
    });
  }

  it('c: a compiled program carries its compile step', async () => {
    const e = await p.run({ language: 'c', code: '#include <stdio.h>\nint main(void) { puts("hi"); return 3; }\n' }, 60);
    assert.equal(e.outcome, 'error');
    assert.equal(e.exitCode, 3);
    assert.equal(e.stdout, 'hi\n');
    assert.equal(e.compile.exitCode, 0);
    assert.equal(typeof e.compile.durationMs, 'number');
    const again = await p.request('GET', `/v1/evaluations/${e.id}`);
    assert.deepEqual(again.json.compile, e.compile, 'the compile step is stored');
  });

  it('cpp: a compile failure is completed/error with the compiler message, and nothing runs', async () => {
    const e = await p.run({ language: 'cpp', code: 'int main() { this is not c++; }\n' }, 60);
    assert.equal(e.status, 'completed');
    assert.equal(e.outcome, 'error');
    assert.notEqual(e.compile.exitCode, 0);
    assert.match(e.compile.stderr, /error/);
    assert.match(e.stderr, /error/);
    assert.equal(e.stdout, '');
  });

  it('an interpreted language has no compile step', async () => {
    const e = await p.run({ language: 'bash', code: 'echo hi' });
    assert.equal(e.stdout, 'hi\n');
    assert.equal(e.compile, null);
  });

  it('runs a request under gVisor when it asks for containerRuntime runsc, and says so', async () => {
    // gVisor's sandbox kernel reports a fixed release; the host's is what runc shows.
    const code = 'import os\nprint(os.uname().release)';
    const gvisor = await p.run({ language: 'python', code, containerRuntime: 'runsc' });
    assert.equal(gvisor.outcome, 'success', JSON.stringify(gvisor));
    assert.equal(gvisor.containerRuntime, 'runsc');
    assert.equal(gvisor.stdout, '4.4.0\n');
    const plain = await p.run({ language: 'python', code });
    assert.equal(plain.containerRuntime, null);
    assert.notEqual(plain.stdout, '4.4.0\n');
    const bad = await p.request('POST', '/v1/evaluations', { language: 'python', code, containerRuntime: 'kata' });
    assert.equal(bad.status, 400);
    const wasm = await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1', containerRuntime: 'runsc' });
    assert.equal(wasm.status, 400);
    assert.equal(wasm.json.error.details.field, 'containerRuntime');
  });

  it('/readyz shows the engine mode, seccomp, AppArmor and self-test verdicts', async () => {
    const ready = await p.request('GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    const agents = Object.values(ready.json.agents) as { container: Record<string, any> }[];
    const c = agents[0]!.container;
    assert.equal(c.mode, 'rootful-userns');
    assert.equal(c.memory, 'cgroup');
    assert.match(c.seccomp, /^crucible [0-9a-f]{12}$/);
    assert.equal(c.appArmor.state, 'unavailable');
    assert.match(c.appArmor.reason, /no AppArmor/);
    assert.equal(c.selfTest.runc.ok, true);
    assert.equal(c.selfTest.runsc.ok, true);
    assert.deepEqual(c.allowedRuntimes, { runc: 'available', runsc: 'available' });
  });

  it('refuses file names that are paths, dot-dot, NUL or too many files', async () => {
    for (const name of ['/etc/passwd', '../x.py', 'a/b.py', '..', 'x\u0000.py']) {
      const res = await p.request('POST', '/v1/evaluations', { language: 'python', files: [{ name, content: '' }] });
      assert.equal(res.status, 400, name);
      assert.equal(res.json.error.code, 'invalid_request', name);
    }
    const many = Array.from({ length: 65 }, (_, i) => ({ name: `f${i}.py`, content: '' }));
    assert.equal((await p.request('POST', '/v1/evaluations', { language: 'python', files: many })).status, 400);
  });
});
