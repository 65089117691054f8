/** What went wrong, as a stable string that code can switch on. */
export type VoiceErrorCode =
  | 'pool-closed'
  | 'pool-started'
  | 'queue-full'
  | 'engine-missing'
  | 'engine-failed'
  | 'worker-crashed'
  | 'worker-missing'
  | 'out-of-memory'
  | 'timeout'
  | 'io'
  | 'metrics-unavailable'
  | 'metrics-registered'

/** Options accepted by {@link VoiceError}. */
export interface VoiceErrorOptions {
  /** Machine-readable facts about the failure (file path, counts, URL...). */
  details?: Record<string, unknown>
  /** The underlying error, always set when this error wraps another one. */
  cause?: unknown
}

// Two copies of this package (an ESM and a CJS one, or two versions) share one pool, so an error
// built by one copy must still pass `instanceof VoiceError` in the other: the brand is global.
const brand = Symbol.for('@taurobot/voice.VoiceError')

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
    Object.defineProperty(this, brand, { value: true })
  }

  /** True for errors built by any loaded copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
  }
}

/** True when `value` is a {@link VoiceError}, optionally with the given code. */
export function isVoiceError(value: unknown, code?: VoiceErrorCode): value is VoiceError {
  return value instanceof VoiceError && (code === undefined || value.code === code)
}
