/**
 * `npm run bench:auth`: what authentication and rate limiting add to a request, as ratios against
 * an unauthenticated request measured interleaved in the same run (bench/measure.ts), plus the cost
 * of the first verification of an API key (scrypt, then cached). Report in markdown on stdout.
 */
import { generateKey, hashKey, verifyKey } from '@crucible/gateway';
import { interleavedLatency, summarize, timed } from './measure.js';
import { BenchPlatform } from './platform.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const progress = (msg: string) => process.stderr.write(`bench:auth: ${msg}\n`);

async function main(): Promise<void> {
  progress('building (tsc -b)');
  await BenchPlatform.build();
  progress('starting the platform');
  await using platform = await BenchPlatform.start({
    dockerHost: process.env.DOCKER_HOST ?? '', redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379', agents: 0, agentConcurrency: 1,
  });
  const key = platform.key;
  const get = (path: string, token?: string) => async () => {
    const res = await fetch(`${platform.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  };
  const tokens = (await (await fetch(`${platform.url}/v1/auth/token`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })).json()) as { accessToken: string };

  progress(`${SAMPLES} interleaved rounds`);
  const [open, withKey, withJwt] = await interleavedLatency(20, SAMPLES, [
    get('/v1/openapi.json'),
    get('/v1/auth/me', key),
    get('/v1/auth/me', tokens.accessToken),
  ]);

  progress('scrypt: hashing and first verification');
  const sample = generateKey();
  const hashed = await hashKey(sample);
  const scrypt = [];
  for (let i = 0; i < 20; i++) scrypt.push((await timed(() => verifyKey(sample, hashed))).ms);

  const rows = [
    ['GET /v1/openapi.json (public: no auth, no rate limit) — baseline', summarize(open!)],
    ['GET /v1/auth/me with an API key (cached) + rate limit', summarize(withKey!)],
    ['GET /v1/auth/me with a JWT access token + rate limit', summarize(withJwt!)],
  ] as const;
  const base = rows[0][1].p50;
  const lines = [
    `## Auth overhead (${new Date().toISOString().slice(0, 10)}, ${SAMPLES} interleaved samples each)`,
    '',
    '| request | p50 ms | p95 ms | p50 ÷ baseline |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(([name, s]) => `| ${name} | ${s.p50.toFixed(2)} | ${s.p95.toFixed(2)} | ${(s.p50 / base).toFixed(2)} |`),
    '',
    `First use of an API key (scrypt N=2^14, r=8): p50 ${summarize(scrypt).p50.toFixed(1)} ms; then cached in Redis for 5 minutes.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:auth failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
