/**
 * @packageDocumentation
 * @module @taurobot/voice
 */

export type { VoiceErrorCode, VoiceErrorOptions } from './errors.js'
export { isVoiceError, VoiceError } from './errors.js'
