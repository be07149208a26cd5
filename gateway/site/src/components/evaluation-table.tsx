import { ago, formatMs, shortId } from '../explain';
import { Link } from '../router';
import type { Evaluation } from '../types';
import { OutcomeBadge, StatusBadge } from './badges';

/** Evaluations as a table; scrolls sideways on a narrow screen instead of squeezing columns. */
export function EvaluationTable({ items, caption, now }: { items: Evaluation[]; caption: string; now: number }) {
  return (
    <div class="table-scroll" role="region" aria-label={caption} tabIndex={0}>
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Evaluation</th>
            <th scope="col">Language</th>
            <th scope="col">Status</th>
            <th scope="col">Outcome</th>
            <th scope="col" class="num">Exit</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id} data-id={e.id}>
              <td>
                <Link href={`/evaluations/${e.id}`} class="mono">{shortId(e.id)}</Link>
              </td>
              <td>{e.language}</td>
              <td><StatusBadge status={e.status} /></td>
              <td><OutcomeBadge outcome={e.outcome} /></td>
              <td class="num">{e.exitCode ?? e.signal ?? '—'}</td>
              <td class="num">{formatMs(e.durationMs)}</td>
              <td><time dateTime={e.createdAt} title={new Date(e.createdAt).toLocaleString()}>{ago(e.createdAt, now)}</time></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
