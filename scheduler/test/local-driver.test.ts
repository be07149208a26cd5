import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalDriver } from '../src/local-driver.js';
import { silent } from './fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LocalDriver (real child processes)', () => {
  it('runs the configured number of agents with only the environment it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crucible-driver-'));
    const script = join(dir, 'agent.mjs');
    writeFileSync(script, `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(dir)} + '/env-' + process.env.CRUCIBLE_AGENT_SLOT, JSON.stringify(process.env));
setInterval(() => {}, 1000);
process.on('SIGTERM', () => process.exit(0));`);
    const driver = new LocalDriver({ agents: 2, entry: script, env: { REDIS_URL: 'redis://x', PATH: process.env.PATH ?? '' }, graceMs: 2000 }, silent);
    driver.start();
    await sleep(1500);
    assert.equal(driver.running, 2);
    const env = JSON.parse(readFileSync(join(dir, 'env-0'), 'utf8'));
    assert.equal(env.REDIS_URL, 'redis://x');
    assert.equal(env.DATABASE_URL, undefined, 'agents never get database credentials');
    await driver.stop();
    assert.equal(driver.running, 0);
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
    await sleep(2500);
    assert.ok(readFileSync(counter, 'utf8').length >= 2, 'restarted after dying');
    // Replace with one that lives and ignores SIGTERM.
    writeFileSync(script, `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`);
    await sleep(3000);
    const started = Date.now();
    await driver.stop();
    assert.ok(Date.now() - started < 5000);
    assert.equal(driver.running, 0);
    rmSync(dir, { recursive: true, force: true });
  });
});
