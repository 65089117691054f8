/** What went wrong, as a stable string that code can switch on. */
export type MemoryErrorCode =
  | 'locked'
  | 'closed'
  | 'io'
  | 'corrupt'
  | 'backend-unavailable'
  | 'backpressure'
  | 'migration'
  | 'too-large'
  | 'duplicate-id'
  | 'unsupported'
  | 'invalid-input'

/** Options accepted by {@link MemoryError}. */
export interface MemoryErrorOptions {
  /** Machine-readable facts about the failure (file path, counts, URL...). */
  details?: Record<string, unknown>
  /** The underlying error, always set when this error wraps another one. */
  cause?: unknown
}

/**
 * The one error class of `@taurobot/memory`. Messages start with the package name, say what went
 * wrong and what to do about it; `code` is stable across versions, the message is not.
 */
export class MemoryError extends Error {
  override readonly name = 'MemoryError'
  readonly code: MemoryErrorCode
  readonly details: Record<string, unknown>

  constructor(code: MemoryErrorCode, message: string, options: MemoryErrorOptions = {}) {
    super(`[@taurobot/memory] ${message}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details ?? {}
  }
}

/** True when `value` is a {@link MemoryError}, optionally with the given code. */
export function isMemoryError(value: unknown, code?: MemoryErrorCode): value is MemoryError {
  return value instanceof MemoryError && (code === undefined || value.code === code)
}
