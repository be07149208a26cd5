import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './helpers.js';
import { Platform } from './platform.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI from source as a child process, the way a user runs it. */
function spawnCli(args: string[], env: Record<string, string>, input?: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, CRUCIBLE_URL: '', CRUCIBLE_KEY: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.end(input ?? '');
  return child;
}

/** A port nothing listens on (fetch refuses some low ports outright, so not just any). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((ok) => server.close(ok));
  return port;
}

function collect(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  return new Promise((ok) => child.once('close', (code) => ok({ code, stdout, stderr })));
}

/** Like collect, but keeps the exact bytes the CLI wrote. */
function collectBytes(child: ChildProcess): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(d));
  child.stderr!.on('data', (d: Buffer) => stderr.push(d));
  return new Promise((ok) => child.once('close', (code) => ok({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) })));
}

describe('the crucible CLI against a running platform', () => {
  let p: Platform;
  let dir: string;
  let env: Record<string, string>;
  const cli = (args: string[], input?: string) => collect(spawnCli(args, env, input));
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crucible-cli-'));
    // An empty config folder: a developer's own ~/.config/crucible must not leak into the tests.
    mkdirSync(join(dir, 'config'));
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1' } });
    env = { CRUCIBLE_URL: p.url, CRUCIBLE_KEY: p.adminKey, XDG_CONFIG_HOME: join(dir, 'config') };
    await p.waitForLanguage('python');
    await p.waitForLanguage('javascript');
  });
  after(async () => {
    await p?.[Symbol.asyncDispose]();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a python file with stdin and arguments, printing its output, exit code 0', async () => {
    const main = file('echo.py', 'import sys\nprint("got", sys.stdin.read().strip(), sys.argv[1:])\n');
    const stdin = file('input.txt', 'hello crucible\n');
    const r = await cli(['run', main, '--stdin', stdin, '--arg', 'a', '--arg', 'b c']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, "got hello crucible ['a', 'b c']\n");
    assert.equal(r.code, 0);
  });

  it('runs several files: the first is main, the others sit beside it', async () => {
    const helper = file('helper.py', 'def shout(s):\n    return s.upper()\n');
    const r = await cli(['run', file('uses_helper.py', 'from helper import shout\nprint(shout("hi"))\n'), helper]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HI\n');
  });

  it('exits with a failing program\'s exit code and passes its stderr through', async () => {
    const r = await cli(['run', file('fail.py', 'import sys\nprint("partial")\nprint("bad thing", file=sys.stderr)\nsys.exit(3)\n')]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'partial\n');
    assert.equal(r.stderr, 'bad thing\n');
  });

  it('exits 124 with a one-line note when the program times out', async () => {
    const r = await cli(['run', file('sleep.py', 'import time\ntime.sleep(60)\n'), '--timeout', '1500']);
    assert.equal(r.code, 124);
    assert.equal(r.stderr, 'crucible: timed out after 1500 ms (timeout)\n');
  });

  it('runs javascript in the Wasm runtime with --wasm, and prints the Evaluation with --json', async () => {
    const js = file('hello.js', 'console.log(6*7)\n');
    const r = await cli(['run', js, '--wasm']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '42\n');
    const j = await cli(['run', js, '--wasm', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const evaluation = JSON.parse(j.stdout);
    assert.equal(evaluation.runtime, 'wasm');
    assert.equal(evaluation.stdout, '42\n');
  });

  it('streams output while the program runs; Ctrl-C cancels the evaluation and exits 130', async () => {
    const child = spawnCli(['run', file('slow.py', 'import time\nprint("started", flush=True)\ntime.sleep(60)\nprint("never")\n')], env);
    const result = collect(child);
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => (seen += d));
    // The first line arrives while the program still sleeps: it was streamed, not printed at the end.
    await waitFor(async () => seen.includes('started\n'), 30_000);
    child.kill('SIGINT');
    const r = await result;
    assert.equal(r.code, 130);
    const id = /cancelled evaluation (\S+)/.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const status = await cli(['status', id, '--json']);
    assert.equal(JSON.parse(status.stdout).status, 'cancelled');
  });

  it('run and logs write the exact bytes of the output: NUL, invalid UTF-8, escapes, a character split across chunks', async () => {
    // Written in parts with pauses, so they arrive as several events, one part ending inside a character.
    const out = [Buffer.from('a\0b\xff\xfe\x1b[31m\r\n\ndata: x\n\n', 'latin1'), Buffer.from([0xc3]), Buffer.from([0xa9, 0xed, 0xa0, 0x80, 0x0a])];
    const err = Buffer.from([0x00, 0xc0, 0xaf, 0x0a]);
    const code = [
      'import sys, time, base64',
      ...out.map((b) => `sys.stdout.buffer.write(base64.b64decode("${b.toString('base64')}")); sys.stdout.buffer.flush(); time.sleep(0.3)`),
      `sys.stderr.buffer.write(base64.b64decode("${err.toString('base64')}"))`,
    ].join('\n');
    const r = await collectBytes(spawnCli(['run', file('bytes.py', code)], env));
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString('hex'), Buffer.concat(out).toString('hex'));
    assert.equal(r.stderr.toString('hex'), err.toString('hex'));

    const sub = await cli(['submit', file('bytes2.py', code)]);
    const id = sub.stdout.trim();
    const followed = await collectBytes(spawnCli(['logs', id, '-f'], env));
    assert.equal(followed.stdout.toString('hex'), Buffer.concat(out).toString('hex'));
    assert.equal(followed.stderr.toString('hex'), err.toString('hex'));
    const logs = await collectBytes(spawnCli(['logs', id], env));
    assert.equal(logs.stdout.toString('hex'), Buffer.concat(out).toString('hex'));
    assert.equal(logs.stderr.toString('hex'), err.toString('hex'));
  });

  it('submit prints the id; status shows it; logs -f follows it to the end', async () => {
    const sub = await cli(['submit', file('count.py', 'import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)\n')]);
    assert.equal(sub.code, 0, sub.stderr);
    const id = sub.stdout.trim();
    assert.match(id, UUID);

    const status = await cli(['status', id]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^id +${id}$`, 'm'));
    assert.match(status.stdout, /^status +(queued|provisioning|running|completed)$/m);

    const logs = await cli(['logs', id, '-f']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, '0\n1\n2\n');

    const done = JSON.parse((await cli(['status', id, '--json'])).stdout);
    assert.equal(done.status, 'completed');
    assert.equal(done.outcome, 'success');
    const stored = await cli(['logs', id]);
    assert.equal(stored.stdout, '0\n1\n2\n');
    const events = (await cli(['logs', id, '-f', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(events.at(-1).event, 'done');
    assert.deepEqual(events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join(''), '0\n1\n2\n');
  });

  it('cancel stops a running evaluation', async () => {
    const sub = await cli(['submit', file('long.py', 'import time\ntime.sleep(60)\n')]);
    const id = sub.stdout.trim();
    const r = await cli(['cancel', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${id} cancelled\n`);
    assert.equal(JSON.parse((await cli(['status', id, '--json'])).stdout).status, 'cancelled');
  });

  it('list --json returns the API page; the table lists evaluations', async () => {
    const id = (await cli(['submit', file('list.js', 'console.log(1)\n')])).stdout.trim();
    const r = await cli(['list', '--json', '--limit', '2']);
    assert.equal(r.code, 0, r.stderr);
    const page = JSON.parse(r.stdout);
    assert.equal(page.items.length, 2);
    assert.equal(page.items[0].id, id, 'newest first');
    assert.equal(typeof page.nextCursor, 'string');
    const next = JSON.parse((await cli(['list', '--json', '--limit', '2', '--cursor', page.nextCursor])).stdout);
    assert.ok(next.items.every((e: { id: string }) => e.id !== id));

    const table = await cli(['list', '--limit', '2', '--language', 'javascript']);
    assert.match(table.stdout, /^ID +STATUS +OUTCOME +LANGUAGE +EXIT +DURATION +CREATED$/m);
    assert.match(table.stdout, new RegExp(`^${id} `, 'm'));
    assert.match(table.stderr, /^more: crucible list --cursor \S+$/m);
  });

  it('batch of a directory runs one evaluation per file and prints a summary table', async () => {
    const batchDir = join(dir, 'batch');
    mkdirSync(batchDir);
    writeFileSync(join(batchDir, 'a.py'), 'print("a")\n');
    writeFileSync(join(batchDir, 'b.js'), 'console.log("b")\n');
    writeFileSync(join(batchDir, 'c.py'), 'import sys\nsys.exit(4)\n');
    writeFileSync(join(batchDir, 'notes.txt'), 'not a program\n');
    const r = await cli(['batch', batchDir]);
    assert.equal(r.code, 1, 'one evaluation did not succeed');
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID +SOURCE +STATUS +OUTCOME +EXIT +DURATION$/);
    assert.match(lines[1]!, /^[0-9a-f-]{36} +a\.py +completed +success +0 +\d/);
    assert.match(lines[2]!, /^[0-9a-f-]{36} +b\.js +completed +success +0 +\d/);
    assert.match(lines[3]!, /^[0-9a-f-]{36} +c\.py +completed +error +4 +\d/);
    assert.equal(lines[4], '3 evaluations: 2 success, 1 error');
    assert.match(r.stderr, /skipped 1 file\(s\) of unknown extension .*notes\.txt/);
    // stderr is not a terminal here: plain progress lines, not a redrawn bar.
    assert.match(r.stderr, /^3\/3 finished, 1 not successful \(\d+ s\)$/m);
    assert.ok(!r.stderr.includes('\r'));
  });

  it('batch of a .jsonl submits each line; --json prints one line per evaluation, rejected ones included', async () => {
    const jsonl = file('jobs.jsonl', [
      JSON.stringify({ language: 'python', code: 'print(input().upper())', stdin: 'shout\n' }),
      '',
      JSON.stringify({ language: 'cobol', code: 'DISPLAY "HI"' }),
      JSON.stringify({ code: 'console.log(2+2)' }),
    ].join('\n'));
    // --lang fills in the language the third request leaves out.
    const r = await cli(['batch', jsonl, '--json', '--lang', 'javascript']);
    assert.equal(r.code, 1, 'one line was rejected');
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const bySource = Object.fromEntries(out.map((o) => [o.source, o]));
    assert.deepEqual(Object.keys(bySource).sort(), ['jobs.jsonl:1', 'jobs.jsonl:3', 'jobs.jsonl:4']);
    assert.equal(bySource['jobs.jsonl:1'].evaluation.stdout, 'SHOUT\n');
    assert.equal(bySource['jobs.jsonl:3'].error.code, 'unknown_language');
    assert.equal(bySource['jobs.jsonl:4'].evaluation.stdout, '4\n');
    assert.equal(bySource['jobs.jsonl:4'].evaluation.language, 'javascript');

    const table = await cli(['batch', jsonl, '--lang', 'javascript']);
    assert.match(table.stdout, /^- +jobs\.jsonl:3 +rejected +unknown_language +- +-$/m);
    assert.match(table.stdout, /^3 evaluations: 2 success, 1 rejected$/m);
    assert.match(table.stderr, /^crucible: jobs\.jsonl:3 was rejected: unknown language "cobol".* \(unknown_language\)$/m);
  });

  describe('errors are one line on stderr', () => {
    const oneLine = (r: Result, pattern: RegExp, code: number) => {
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^crucible: [^\n]+\n$/);
      assert.match(r.stderr, pattern);
    };

    it('an unknown id', async () => {
      oneLine(await cli(['status', '00000000-0000-4000-8000-000000000000']), /evaluation 00000000-0000-4000-8000-000000000000 not found \(not_found\)/, 1);
      oneLine(await cli(['logs', 'nope', '-f']), /not found \(not_found\)/, 1);
    });

    it('an unreachable platform, named by --url over CRUCIBLE_URL', async () => {
      const port = await closedPort();
      oneLine(await cli(['list', '--url', `http://127.0.0.1:${port}`]), new RegExp(`^crucible: cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED \\(unreachable\\)\n$`), 1);
    });

    it('an unknown extension lists the platform\'s languages', async () => {
      oneLine(await cli(['run', file('prog.rb', 'puts 1\n')]), /cannot tell the language of prog\.rb .*--lang \(one of python, python-ml, javascript-node, bash, c, cpp, javascript, wasm\) \(usage\)/, 2);
    });

    it('usage mistakes exit 2', async () => {
      oneLine(await cli(['run', '--bogus']), /unknown option --bogus/, 2);
      oneLine(await cli(['frobnicate']), /unknown command "frobnicate"/, 2);
      oneLine(await cli(['run', file('t.py', 'print(1)\n'), '--timeout', 'soon']), /--timeout must be a positive integer/, 2);
      oneLine(await cli(['run', join(dir, 'missing.py')]), /cannot read file .*missing\.py: no such file \(file\)/, 2);
    });

    it('a request the API refuses', async () => {
      oneLine(await cli(['run', file('big.py', 'print(1)\n'), '--memory', '999999']), /\(invalid_request\)$/m, 1);
    });
  });

  it('reads the URL from the config file when the environment names none', async () => {
    const config = join(dir, 'xdg');
    mkdirSync(join(config, 'crucible'), { recursive: true });
    writeFileSync(join(config, 'crucible', 'config.json'), JSON.stringify({ url: p.url }));
    const r = await collect(spawnCli(['languages', '--json'], { XDG_CONFIG_HOME: config }));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).some((l: { id: string }) => l.id === 'python'));
    // The environment wins over the file.
    writeFileSync(join(config, 'crucible', 'config.json'), JSON.stringify({ url: 'http://127.0.0.1:1' }));
    const env2 = await collect(spawnCli(['languages'], { XDG_CONFIG_HOME: config, CRUCIBLE_URL: p.url }));
    assert.equal(env2.code, 0, env2.stderr);
  });

  it('./crucible dispatches CLI commands to the built CLI, resolving files from the caller\'s directory', async () => {
    file('launched.js', 'console.log("via launcher")\n');
    const child = spawn(join(ROOT, 'crucible'), ['run', 'launched.js'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const r = await collect(child);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'via launcher\n');
  });

  it('help lists the commands', async () => {
    const r = await cli(['help']);
    assert.equal(r.code, 0);
    for (const c of ['run', 'submit', 'status', 'logs', 'cancel', 'list', 'batch']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
  });
});
