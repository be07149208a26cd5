import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonl } from '../src/cli/batch-input.js';
import { Client, type Evaluation } from '../src/cli/client.js';
import { loadConfig } from '../src/cli/config.js';
import { CliError } from '../src/cli/errors.js';
import { exitFor } from '../src/cli/outcome.js';
import { table } from '../src/cli/output.js';
import { languageOf, readSource } from '../src/cli/source.js';
import { SseParser } from '../src/cli/sse.js';

describe('CLI parts', () => {
  it('SseParser handles events split anywhere, CRLF, comments and multi-line data', () => {
    const text = ': keepalive\r\n\r\nid: 1\r\nevent: stdout\r\ndata: {"data":"a"}\r\n\r\nid: 2\nevent: x\ndata: one\ndata: two\n\nevent: done\ndata: {}\n\n';
    for (const size of [1, 2, 3, 7, text.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      assert.deepEqual(events, [
        { event: 'stdout', data: '{"data":"a"}', id: '1' },
        { event: 'x', data: 'one\ntwo', id: '2' },
        // The last id carries on, as the one a reconnect would resume after.
        { event: 'done', data: '{}', id: '2' },
      ], `chunks of ${size}`);
    }
  });

  it('infers languages from extensions', () => {
    assert.equal(languageOf('a/b/main.py'), 'python');
    assert.equal(languageOf('x.mjs'), 'javascript');
    assert.equal(languageOf('X.JS'), 'javascript');
    assert.equal(languageOf('m.wat'), 'wasm');
    assert.equal(languageOf('m.wasm'), 'wasm');
    assert.equal(languageOf('run.sh'), 'bash');
    assert.equal(languageOf('main.c'), 'c');
    assert.equal(languageOf('main.cpp'), 'cpp');
    assert.equal(languageOf('m.rb'), undefined);
    assert.equal(languageOf('Makefile'), undefined);
  });

  it('sends text files as UTF-8 and .wasm or non-UTF-8 files as base64', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crucible-cli-src-'));
    try {
      const bytes = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
      writeFileSync(join(dir, 'm.wasm'), bytes);
      writeFileSync(join(dir, 'latin1.py'), Buffer.from([0x23, 0xe9, 0x0a]));
      writeFileSync(join(dir, 'ok.py'), 'print("é")\n');
      assert.deepEqual(await readSource(join(dir, 'm.wasm')), { name: 'm.wasm', content: bytes.toString('base64'), encoding: 'base64' });
      assert.equal((await readSource(join(dir, 'latin1.py'))).encoding, 'base64');
      assert.deepEqual(await readSource(join(dir, 'ok.py')), { name: 'ok.py', content: 'print("é")\n', encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps how an evaluation ended to an exit code', () => {
    const e = (over: Partial<Evaluation>) => ({ id: 'x', status: 'completed', outcome: 'success', exitCode: 0, signal: null, error: null, limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, pids: 8, outputBytes: 10 }, ...over }) as Evaluation;
    assert.deepEqual(exitFor(e({})), { code: 0 });
    assert.deepEqual(exitFor(e({ outcome: 'error', exitCode: 3 })), { code: 3 });
    assert.equal(exitFor(e({ outcome: 'error', exitCode: null, signal: 'SIGSEGV' })).code, 139);
    assert.equal(exitFor(e({ outcome: 'timeout', exitCode: null })).code, 124);
    assert.equal(exitFor(e({ outcome: 'memory_limit', exitCode: null })).code, 137);
    assert.equal(exitFor(e({ outcome: 'output_limit', exitCode: null })).code, 137);
    assert.equal(exitFor(e({ outcome: 'killed', exitCode: null })).code, 137);
    assert.equal(exitFor(e({ status: 'cancelled', outcome: null })).code, 130);
    assert.match(exitFor(e({ status: 'failed', outcome: null, error: 'no agent' })).note!, /no agent \(failed\)$/);
    assert.equal(exitFor(e({ status: 'failed', outcome: null })).code, 125);
  });

  it('parses .jsonl batches: defaults fill in, a line\'s own fields win', () => {
    const items = parseJsonl('j.jsonl', '{"language":"python","code":"1","limits":{"memoryMb":64}}\n\n{"code":"2"}\r\n', 'javascript', { limits: { timeoutMs: 500, memoryMb: 128 } });
    assert.deepEqual(items, [
      { source: 'j.jsonl:1', request: { language: 'python', code: '1', limits: { timeoutMs: 500, memoryMb: 64 } } },
      { source: 'j.jsonl:3', request: { language: 'javascript', code: '2', limits: { timeoutMs: 500, memoryMb: 128 } } },
    ]);
    assert.throws(() => parseJsonl('j.jsonl', '{"a":1}\n[1]\n', undefined, {}), (err: CliError) => err.exitCode === 2 && /j\.jsonl:2 is not a JSON object/.test(err.message));
    assert.throws(() => parseJsonl('j.jsonl', '{', undefined, {}), /j\.jsonl:1 is not valid JSON/);
  });

  it('aligns tables', () => {
    assert.equal(table(['A', 'BB'], [['xyz', '1'], ['', '22']]), 'A    BB\nxyz  1\n     22\n');
  });

  describe('configuration', () => {
    let home: string;
    before(() => {
      home = mkdtempSync(join(tmpdir(), 'crucible-cli-config-'));
      mkdirSync(join(home, '.config', 'crucible'), { recursive: true });
      writeFileSync(join(home, '.config', 'crucible', 'config.json'), JSON.stringify({ url: 'http://file:1/', key: 'crk_file' }));
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    it('--url, then the environment, then ~/.config/crucible/config.json, then the default', () => {
      assert.deepEqual({ ...loadConfig({ HOME: home }) }, { url: 'http://file:1', key: 'crk_file', file: join(home, '.config', 'crucible', 'config.json') });
      assert.equal(loadConfig({ HOME: home, CRUCIBLE_URL: 'http://env:2', CRUCIBLE_KEY: 'crk_env' }).key, 'crk_env');
      assert.equal(loadConfig({ HOME: home, CRUCIBLE_URL: 'http://env:2' }).url, 'http://env:2');
      assert.equal(loadConfig({ HOME: home, CRUCIBLE_URL: 'http://env:2' }, { url: 'http://flag:3' }).url, 'http://flag:3');
      const empty = loadConfig({ HOME: join(home, 'nowhere') });
      assert.equal(empty.url, 'http://127.0.0.1:8080');
      assert.equal(empty.key, undefined);
      assert.ok(Object.isFrozen(empty));
    });

    it('a broken config file or URL is a clear error', () => {
      writeFileSync(join(home, 'bad.json'), '{');
      mkdirSync(join(home, 'x', 'crucible'), { recursive: true });
      writeFileSync(join(home, 'x', 'crucible', 'config.json'), '{nope');
      assert.throws(() => loadConfig({ XDG_CONFIG_HOME: join(home, 'x') }), /config\.json is not valid JSON/);
      assert.throws(() => loadConfig({ HOME: home, CRUCIBLE_URL: 'localhost:8080' }), /is not an http\(s\) URL|is not a URL/);
    });
  });

  // A real platform never drops a stream on cue, so this small server stands in for one that does
  // (a gateway restart, a proxy's idle timeout). Its events are exactly the gateway's SSE format.
  describe('Client against a server that drops the event stream', () => {
    let server: Server;
    let url: string;
    // Requests are recorded and judged in the test: an assertion in this handler would throw in
    // the server, not in the test, and its failure would be lost.
    const seen: { url: string | undefined; headers: IncomingHttpHeaders }[] = [];
    before(async () => {
      server = createServer((req, res) => {
        seen.push({ url: req.url, headers: req.headers });
        if (req.url === '/v1/evaluations/e1/events') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          if (!req.headers['last-event-id']) {
            res.write('id: 1\nevent: stdout\ndata: {"data":"a"}\n\n');
            res.write('id: 2\nevent: stdout\ndata: {"data":"b"}\n\n');
            setTimeout(() => res.destroy(), 50);
          } else {
            res.end('id: 3\nevent: stdout\ndata: {"data":"c"}\n\nevent: done\ndata: {"id":"e1","stdout":"abc"}\n\n');
          }
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'not_found', message: 'evaluation x not found' } }));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => server.close());

    it('resumes after the last event with Last-Event-ID and sends the key as a Bearer token', async () => {
      const client = new Client({ url, key: 'crk_secret' });
      const data: string[] = [];
      for await (const e of client.events('e1')) if (e.event === 'stdout') data.push(e.data.data);
      assert.deepEqual(data, ['a', 'b', 'c']);
      const streams = seen.filter((r) => r.url === '/v1/evaluations/e1/events');
      assert.deepEqual(streams.map((r) => r.headers['last-event-id']), [undefined, '2'], 'one resume, after the last event received');
      assert.ok(seen.every((r) => r.headers.authorization === 'Bearer crk_secret'));
    });

    it('turns the API\'s error body into a CliError', async () => {
      await assert.rejects(new Client({ url }).get('x'), (err: CliError) => err.code === 'not_found' && err.message === 'evaluation x not found' && err.exitCode === 1);
    });
  });
});
