import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** The kernel's own line when its pids controller first refuses a fork in a cgroup (kernel/cgroup/pids.c). */
const FORK_REJECTED = 'cgroup: fork rejected by pids controller in ';

/**
 * Whether the kernel log (/dev/kmsg) records that the pids controller refused a fork in the
 * cgroup of container `id`. The kernel logs this once per cgroup, the first time, and the record
 * outlives the cgroup: it is the evidence left when a sandbox hit its pids limit and died before
 * a poll of pids.events saw the counter move (under gVisor the sandbox dies ~40 ms after).
 *
 * Reads the whole ring buffer (a few ms), so it is asked only for runs that did not succeed.
 * Where /dev/kmsg cannot be read (no privilege, no such device), it says false.
 */
export async function kernelLogsForkRejected(id: string, path = '/dev/kmsg'): Promise<boolean> {
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
  if (!file) return false;
  try {
    const buffer = Buffer.alloc(8192);
    for (;;) {
      let n: number;
      try {
        // One record per read from /dev/kmsg; a plain file (tests) is read in chunks.
        ({ bytesRead: n } = await file.read(buffer, 0, buffer.length, null));
      } catch (err) {
        // EPIPE: records were overwritten while reading; the next read goes on from the oldest.
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') continue;
        return false; // EAGAIN: no more records
      }
      if (n === 0) return false;
      const text = buffer.toString('utf8', 0, n);
      for (const line of text.split('\n')) if (line.includes(FORK_REJECTED) && line.includes(id)) return true;
    }
  } finally {
    await file.close();
  }
}
