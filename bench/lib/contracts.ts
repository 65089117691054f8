// The public API of the three packages as their issues define it, typed structurally. The benches
// import the packages dynamically through these shapes, so the bench typechecks and reports a
// clean "skipped" before a package has landed, and fails loudly if a contract name changes.

// Variables, not literals: the typecheck must not depend on the packages being built.
export const MEMORY_ENTRY: string = '@taurobot/memory'
export const MEMORY_REDIS_ENTRY: string = '@taurobot/memory/redis'
export const VOICE_ENTRY: string = '@taurobot/voice'
export const SW_CACHE_ENTRY: string = '@taurobot/sw-cache'

export interface StoredMessage {
  role: string
  content: string
  timestamp: string
  [field: string]: unknown
}

export interface MemoryStats {
  conversations: number
  messages: number
  pending?: number
  saves?: number
  bytesWritten?: number
  [field: string]: unknown
}

export interface MemoryStore {
  add(id: string | number, message: { role: string; content: string }): Promise<StoredMessage>
  history(id: string | number, options?: { limit?: number }): Promise<StoredMessage[]>
  stats(): MemoryStats | Promise<MemoryStats>
  flush(): Promise<void>
  close(): Promise<void>
  on?(event: string, listener: (...args: unknown[]) => void): unknown
  compact?(): Promise<unknown>
}

export interface MemoryModule {
  openMemory(options: Record<string, unknown>): Promise<MemoryStore>
  fileBackend(options: {
    path: string
    compactionRatio?: number
    compactionMinBytes?: number
    journalSync?: 'dsync' | 'fdatasync'
  }): unknown
}

export interface RedisMemoryModule {
  redisBackend(options: { url?: string; client?: unknown; keyPrefix?: string }): unknown
}

export interface SynthesizedAudio {
  data: Uint8Array
  format: string
  mimeType: string
  sampleRate: number
  durationMs: number
}

export interface VoiceSystemLike {
  synthesize(
    text: string,
    options?: { format?: 'ogg' | 'wav'; signal?: AbortSignal },
  ): Promise<SynthesizedAudio>
  warmup?(): Promise<unknown>
}

export interface VoicePoolLike {
  stats(): { threads: number; [field: string]: unknown }
  close(): Promise<void>
}

export interface VoiceModule {
  VoiceSystem: new (options?: Record<string, unknown>) => VoiceSystemLike
  voicePool: VoicePoolLike
}
