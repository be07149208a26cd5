// A node:test reporter for the runner (scripts/run-tests.mjs): it writes each event the runner
// counts as one JSON line straight to the pipe on CRUCIBLE_TEST_EVENTS_FD, synchronously, so the
// runner sees every test as it ends (it judges "all tests ended" live to spot leaked handles) and
// nothing is lost if the file is killed. It yields nothing: the human-readable output is spec's.
import { writeSync } from 'node:fs';

const fd = Number(process.env.CRUCIBLE_TEST_EVENTS_FD);

function send(event) {
  if (Number.isInteger(fd)) writeSync(fd, `${JSON.stringify(event)}\n`);
}

export default async function* eventsReporter(source) {
  for await (const { type, data } of source) {
    if (type === 'test:enqueue' || type === 'test:dequeue' || type === 'test:start') {
      send({ type, name: data.name, nesting: data.nesting });
    } else if (type === 'test:pass' || type === 'test:fail') {
      send({
        type,
        name: data.name,
        nesting: data.nesting,
        suite: data.details?.type === 'suite',
        skip: data.skip ?? false,
        todo: data.todo ?? false,
        error: type === 'test:fail' ? String(data.details?.error?.cause ?? data.details?.error ?? '') : undefined,
      });
    }
  }
  yield* [];
}
