/** What went wrong, as a stable string that code can switch on. */
export type VoiceErrorCode =
  | 'pool-closed'
  | 'queue-full'
  | 'engine-missing'
  | 'engine-failed'
  | 'worker-crashed'
  | 'timeout'
  | 'io'

/** Options accepted by {@link VoiceError}. */
export interface VoiceErrorOptions {
  /** Machine-readable facts about the failure (file path, counts, URL...). */
  details?: Record<string, unknown>
  /** The underlying error, always set when this error wraps another one. */
  cause?: unknown
}

/**
 * The one error class of `@taurobot/voice`. Messages start with the package name, say what went
 * wrong and what to do about it; `code` is stable across versions, the message is not.
 */
export class VoiceError extends Error {
  override readonly name = 'VoiceError'
  readonly code: VoiceErrorCode
  readonly details: Record<string, unknown>

  constructor(code: VoiceErrorCode, message: string, options: VoiceErrorOptions = {}) {
    super(`[@taurobot/voice] ${message}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details ?? {}
  }
}

/** True when `value` is a {@link VoiceError}, optionally with the given code. */
export function isVoiceError(value: unknown, code?: VoiceErrorCode): value is VoiceError {
  return value instanceof VoiceError && (code === undefined || value.code === code)
}
