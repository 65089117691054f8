/**
 * @packageDocumentation
 * @module @taurobot/voice
 */

export type {
  VoiceEngineInitMessage,
  VoicePoolMessage,
  VoiceTaskMessage,
  VoiceTaskOutcome,
} from './diagnostics.js'
export { voiceChannels } from './diagnostics.js'
export type { AudioFormat } from './encode.js'
export type {
  BuiltInEngineName,
  Engine,
  EngineAudio,
  EngineCancellation,
  EngineModule,
  EngineSpeechOptions,
} from './engine.js'
export { EngineCancelledError } from './engine.js'
export type { VoiceErrorCode, VoiceErrorOptions } from './errors.js'
export { isVoiceError, VoiceError } from './errors.js'
export type { VoicePoolOptions } from './pool/options.js'
export type { VoicePool } from './pool/shared-pool.js'
export { voicePool } from './pool/shared-pool.js'
export type { LatencySummary, VoicePoolStats } from './pool/stats.js'
export type { EmojiMode } from './speech-text/emoji.js'
export type { SpeechTextOptions } from './speech-text/speech-text.js'
export { speechText } from './speech-text/speech-text.js'
export type {
  StreamedAudio,
  StreamOptions,
  SynthesizedAudio,
  SynthesizeOptions,
  VoiceSystemOptions,
  WarmupOptions,
  WarmupResult,
} from './voice-options.js'
export { VoiceSystem } from './voice-system.js'
