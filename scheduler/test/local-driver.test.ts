import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalDriver } from '../src/local-driver.js';
import { silent } from './fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `ready()` holds (the agents report by writing files), failing after `ms`. */
async function until(what: string, ready: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('LocalDriver (real child processes)', () => {
  it('runs the configured number of agents with only the environment it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crucible-driver-'));
    const script = join(dir, 'agent.mjs');
    writeFileSync(script, `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(dir)} + '/env-' + process.env.CRUCIBLE_AGENT_SLOT, JSON.stringify({ pid: process.pid, env: process.env }));
setInterval(() => {}, 1000);
process.on('SIGTERM', () => process.exit(0));`);
    const driver = new LocalDriver({ agents: 2, entry: script, env: { REDIS_URL: 'redis://x', PATH: process.env.PATH ?? '' }, graceMs: 2000 }, silent);
    driver.start();
    const files = [join(dir, 'env-0'), join(dir, 'env-1')];
    await until('both agents to start', () => files.every((f) => existsSync(f) && readFileSync(f, 'utf8').endsWith('}')));
    const agents = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { pid: number; env: Record<string, string> });
    assert.equal(driver.running, 2);
    assert.ok(agents.every((a) => alive(a.pid)), 'both agents are running before the stop');
    assert.equal(agents[0]!.env.REDIS_URL, 'redis://x');
    assert.equal(agents[0]!.env.DATABASE_URL, undefined, 'agents never get database credentials');
    await driver.stop();
    assert.equal(driver.running, 0);
    assert.ok(agents.every((a) => !alive(a.pid)), 'the stop ended both agents');
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts an agent that dies, and kills one that ignores SIGTERM after the grace period', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crucible-driver-'));
    const script = join(dir, 'agent.mjs');
    const counter = join(dir, 'starts');
    writeFileSync(counter, '');
    writeFileSync(script, `import { appendFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(counter)}, 'x');
process.on('SIGTERM', () => {});
setTimeout(() => process.exit(1), 200);
setInterval(() => {}, 1000);`);
    const driver = new LocalDriver({ agents: 1, entry: script, env: { PATH: process.env.PATH ?? '' }, graceMs: 500 }, silent);
    driver.start();
    await until('a restart after the agent died', () => readFileSync(counter, 'utf8').length >= 2);
    // Replace it with one that lives and ignores SIGTERM, saying when it got one.
    const pidFile = join(dir, 'pid');
    const terms = join(dir, 'terms');
    writeFileSync(script, `import { appendFileSync, writeFileSync } from 'node:fs';
process.on('SIGTERM', () => appendFileSync(${JSON.stringify(terms)}, 'TERM'));
writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
setInterval(() => {}, 1000);`);
    await until('the SIGTERM-ignoring agent to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(driver.running, 1);
    assert.ok(alive(pid), 'the agent is running when the stop begins');
    await driver.stop();
    assert.equal(driver.running, 0);
    assert.equal(readFileSync(terms, 'utf8'), 'TERM', 'it was asked with SIGTERM first, and ignored it');
    assert.ok(!alive(pid), 'it was killed anyway');
    rmSync(dir, { recursive: true, force: true });
  });
});
