import { createServer, type Server, type ServerResponse } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';
import { readiness, type ReadinessChecks } from './readiness.js';

/**
 * The HTTP endpoints of a scheduler running on its own (with the gateway external to it, the
 * gateway's endpoints see neither the collector's counters nor the scheduler's health):
 * `/metrics`, `/healthz` (the process answers) and `/readyz` (every check passes; 503 with the
 * failing one otherwise, which is what an orchestrator's health check and an operator ask for).
 * Embedded, the gateway serves the same registry and its own /readyz.
 */
export function serveMetrics(host: string, port: number, checks: ReadinessChecks = {}): Promise<Server> {
  collectDefaultMetrics();
  const server = createServer((req, res) => {
    if (req.method !== 'GET') return json(res, 405, { error: { code: 'method_not_allowed', message: 'only GET' } });
    if (req.url === '/metrics') {
      register.metrics().then(
        (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
        () => json(res, 500, { error: { code: 'internal', message: 'internal error' } }),
      );
      return;
    }
    if (req.url === '/healthz') return json(res, 200, { status: 'ok' });
    if (req.url === '/readyz') {
      void readiness(checks).then((results) => {
        const ready = Object.values(results).every((c) => c.ok);
        if (ready) json(res, 200, { status: 'ready', checks: results });
        else json(res, 503, { error: { code: 'unavailable', message: 'not ready', details: { checks: results } } });
      });
      return;
    }
    json(res, 404, { error: { code: 'not_found', message: 'GET /metrics, /healthz or /readyz' } });
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
