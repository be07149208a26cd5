import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toColumns, toEvaluation, toEvent, type EvaluationRow } from '../src/evaluation-row.js';

const row: EvaluationRow = {
  id: '6f1c1f0e-8a0e-4c55-9d7e-2b8f2f4c9a11',
  owner: 'alice',
  status: 'completed',
  outcome: 'success',
  language: 'python',
  runtime: 'container',
  priority: 'normal',
  files: [{ name: 'main.py', content: 'print(1)', encoding: 'utf8' }],
  stdin: '',
  args: ['-v'],
  limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, pids: 16, outputBytes: 1024 },
  metadata: { suite: 'x' },
  exit_code: 0,
  signal: null,
  stdout: '1\n',
  stderr: '',
  stdout_truncated: false,
  stderr_truncated: false,
  duration_ms: 12,
  error: null,
  attempts: 1,
  request_id: 'req-1',
  created_at: new Date('2024-05-01T10:00:00.000Z'),
  started_at: new Date('2024-05-01T10:00:01.000Z'),
  finished_at: null,
  updated_at: new Date('2024-05-01T10:00:02.000Z'),
};

describe('row mapping', () => {
  it('maps snake_case columns to the camelCase domain with ISO times', () => {
    const evaluation = toEvaluation(row);
    assert.equal(evaluation.exitCode, 0);
    assert.equal(evaluation.durationMs, 12);
    assert.equal(evaluation.pidsLimitHit, false, 'no pids_limit_hit column value: false');
    assert.equal(toEvaluation({ ...row, pids_limit_hit: true }).pidsLimitHit, true);
    assert.equal(evaluation.requestId, 'req-1');
    assert.equal(evaluation.createdAt, '2024-05-01T10:00:00.000Z');
    assert.equal(evaluation.startedAt, '2024-05-01T10:00:01.000Z');
    assert.equal(evaluation.finishedAt, null);
    assert.deepEqual(evaluation.args, ['-v']);
  });

  it('accepts jsonb as text and times as text, as some drivers return them', () => {
    const asText = toEvaluation({
      ...row,
      files: JSON.stringify(row.files),
      args: JSON.stringify(row.args),
      limits: JSON.stringify(row.limits),
      metadata: JSON.stringify(row.metadata),
      created_at: '2024-05-01 10:00:00+00',
      started_at: '2024-05-01T12:00:01.000+02:00',
      updated_at: '2024-05-01 10:00:02.000+00',
    });
    assert.deepEqual(asText, toEvaluation(row));
    const event = toEvent({ evaluation_id: row.id, seq: 3, type: 'stdout', data: '{"data":"hi"}', at: '2024-05-01 10:00:00+00' });
    assert.deepEqual(event.data, { data: 'hi', dataBase64: Buffer.from('hi').toString('base64') });
    assert.equal(event.at, '2024-05-01T10:00:00.000Z');
  });

  it('turns a transition patch into result columns only', () => {
    const patch = { outcome: 'timeout', exitCode: null, stdoutTruncated: true, status: 'queued', owner: 'mallory' };
    assert.deepEqual(toColumns(patch as Parameters<typeof toColumns>[0]), {
      outcome: 'timeout',
      exit_code: null,
      stdout_truncated: true,
    });
  });
});
