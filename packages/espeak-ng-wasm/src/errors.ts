/** What went wrong, as a small union to switch on. */
export type EspeakNgErrorCode = 'init-failed' | 'unknown-voice' | 'synthesis-failed'

/** The one error class of @taurobot/espeak-ng-wasm. */
export class EspeakNgError extends Error {
  override readonly name = 'EspeakNgError'
  /** What went wrong. */
  readonly code: EspeakNgErrorCode
  /** espeak-ng's own status code (an `espeak_ng_STATUS`), or 0 when the failure was found before espeak-ng ran. */
  readonly status: number
  /** The last lines espeak-ng printed, oldest first (they never reach the process's stdout or stderr). */
  readonly messages: readonly string[]

  constructor(
    code: EspeakNgErrorCode,
    message: string,
    options: { status?: number; messages?: readonly string[]; cause?: unknown } = {},
  ) {
    const messages = options.messages ?? []
    const printed = messages.length > 0 ? ` espeak-ng said: ${messages.join(' | ')}` : ''
    super(
      `[@taurobot/espeak-ng-wasm] ${message}${printed}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.code = code
    this.status = options.status ?? 0
    this.messages = messages
  }
}

const statusNames: Record<number, string> = {
  268435967: 'compile error',
  268436223: 'data version mismatch',
  268436735: 'not initialized',
  268437247: 'voice not found',
  268438271: 'not supported',
  268438527: 'unsupported phoneme data format',
  268438783: 'no spectral frames',
  268439039: 'empty phoneme manifest',
  268439295: 'speech stopped',
  268439551: 'unknown phoneme feature',
  268439807: 'unknown text encoding',
}

/** A readable form of an espeak_ng_STATUS for messages: "voice not found (0x100006ff)". */
export function describeStatus(status: number): string {
  const hex = `0x${(status >>> 0).toString(16)}`
  const name = statusNames[status >>> 0]
  // Values below 256 are errno codes of the WebAssembly C library.
  if (name === undefined) return status >>> 0 < 256 ? `errno ${status}` : `status ${hex}`
  return `${name} (${hex})`
}
