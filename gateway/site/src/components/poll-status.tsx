/** "Live" or why not: shown next to a page title that updates by polling. */
export function PollStatus({ error, loaded }: { error: Error | undefined; loaded: boolean }) {
  if (error) {
    return (
      <p class="live-indicator offline" role="alert">
        {error.message} Retrying…
      </p>
    );
  }
  return (
    <p class="live-indicator" aria-hidden={!loaded}>
      <span class="dot" /> {loaded ? 'Live' : 'Loading…'}
    </p>
  );
}
