/**
 * Why a storage call refused its input. The gateway maps `code` to its own error type
 * (STYLE.md §3); storage stays free of HTTP concerns, so it carries no status.
 */
export type StorageInputErrorCode = 'bad_cursor' | 'bad_limit' | 'bad_id' | 'not_found';

/** Thrown when a caller passes something storage cannot act on; never for a database fault. */
export class StorageInputError extends Error {
  override readonly name = 'StorageInputError';

  constructor(
    message: string,
    readonly code: StorageInputErrorCode,
  ) {
    super(message);
  }
}
