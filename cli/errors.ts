/** Exit codes of the skyvox command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A usage mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
