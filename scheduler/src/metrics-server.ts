import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';

/**
 * `/metrics` for a scheduler running on its own (with the gateway external to it, the gateway's
 * endpoint does not see the collector's counters). Embedded, the gateway serves the same registry.
 */
export function serveMetrics(host: string, port: number): Promise<Server> {
  collectDefaultMetrics();
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"only GET /metrics"}}');
      return;
    }
    register.metrics().then(
      (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal","message":"internal error"}}'),
    );
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
