import { api } from '../api';
import { EvaluationTable } from '../components/evaluation-table';
import { Sparkline } from '../components/sparkline';
import { ago } from '../explain';
import { Link } from '../router';
import { useThroughput } from '../throughput';
import { usePoll } from '../use-poll';
import { followStatusChanges } from '../event-stream';
import { useEffect } from 'preact/hooks';
import { PollStatus } from '../components/poll-status';

/** Queue depth and agents have no event feed: they are polled. */
const QUEUE_POLL_MS = 2000;
/** Recent evaluations follow the SSE status feed; the slow poll only backs it up. */
const LIST_POLL_MS = 10_000;

/** Queue depth per lane, agents, running now, throughput and recent evaluations, live. */
export function HomePage() {
  const queue = usePoll(api.queue, QUEUE_POLL_MS);
  const recent = usePoll(() => api.list({ limit: 20 }), LIST_POLL_MS);
  const { refresh: refreshRecent } = recent;
  const { refresh: refreshQueue } = queue;
  useEffect(() => followStatusChanges(() => (refreshRecent(), refreshQueue())), [refreshRecent, refreshQueue]);
  const now = Date.now();
  const throughput = useThroughput(recent.data?.items, now);
  const lanes = queue.data?.lanes ?? [];
  const agents = queue.data?.agents ?? [];
  const running = lanes.reduce((n, l) => n + l.running, 0);
  const queued = lanes.reduce((n, l) => n + l.depth, 0);
  const peak = Math.max(...throughput.buckets);

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Overview</h1>
        <PollStatus error={queue.error ?? recent.error} loaded={queue.data !== undefined} />
      </div>

      <section class="cards" aria-label="Summary">
        <div class="card">
          <span class="card-label" id="running-label">Running now</span>
          <span class="card-value" aria-labelledby="running-label" data-testid="running-now">{queue.data ? running : '…'}</span>
        </div>
        <div class="card">
          <span class="card-label" id="queued-label">Queued</span>
          <span class="card-value" aria-labelledby="queued-label" data-testid="queued">{queue.data ? queued : '…'}</span>
        </div>
        <div class="card">
          <span class="card-label" id="agents-label">Agents</span>
          <span class="card-value" aria-labelledby="agents-label" data-testid="agents">{queue.data ? agents.length : '…'}</span>
        </div>
        <div class="card card-wide">
          <span class="card-label">Finished per 10 s, last 5 min</span>
          <Sparkline values={throughput.buckets} label={`${throughput.total} finished in the last 5 minutes; peak ${peak} per 10 seconds`} />
          <span class="muted">{throughput.total} in 5 min · peak {peak}/10 s</span>
        </div>
      </section>

      <div class="columns">
        <section aria-labelledby="lanes-heading">
          <h2 id="lanes-heading">Lanes</h2>
          {lanes.length === 0 ? (
            <p class="muted">{queue.data ? 'No lanes yet.' : 'Loading…'}</p>
          ) : (
            <div class="table-scroll" role="region" aria-labelledby="lanes-heading" tabIndex={0}>
              <table class="compact">
                <thead>
                  <tr><th scope="col">Lane</th><th scope="col" class="num">Queued</th><th scope="col" class="num">Running</th></tr>
                </thead>
                <tbody>
                  {lanes.map((l) => (
                    <tr key={l.name}><th scope="row">{l.name}</th><td class="num">{l.depth}</td><td class="num">{l.running}</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section aria-labelledby="agents-heading">
          <h2 id="agents-heading">Agents</h2>
          {agents.length === 0 ? (
            <p class="muted">{queue.data ? 'No agent is running: nothing will be executed.' : 'Loading…'}</p>
          ) : (
            <div class="table-scroll" role="region" aria-labelledby="agents-heading" tabIndex={0}>
              <table class="compact">
                <thead>
                  <tr><th scope="col">Agent</th><th scope="col">Lane</th><th scope="col" class="num">Running</th><th scope="col">Seen</th></tr>
                </thead>
                <tbody>
                  {agents.map((a) => (
                    <tr key={a.id}>
                      <th scope="row" class="mono" title={`${a.id} on ${a.node}`}>{a.id}</th>
                      <td>{a.lane}</td>
                      <td class="num">{a.running}</td>
                      <td>{ago(a.lastSeenAt, now)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>

      <section aria-labelledby="recent-heading">
        <div class="section-head">
          <h2 id="recent-heading">Recent evaluations</h2>
          <Link href="/history">All history</Link>
        </div>
        {recent.data && recent.data.items.length === 0 ? (
          <p class="muted">
            Nothing has run yet. <Link href="/submit">Submit some code</Link>.
          </p>
        ) : (
          <EvaluationTable items={recent.data?.items ?? []} caption="Recent evaluations" now={now} />
        )}
      </section>
    </>
  );
}
