/**
 * @packageDocumentation
 * @module @taurobot/memory
 */

export type {
  AppendResult,
  Backend,
  BackendContext,
  BackendStats,
  BatchEntry,
  CommitCounts,
  ConversationSummary,
  Operation,
  RecoveredInfo,
} from './backend.js'
export type { CompactOnClose, FileBackendOptions } from './backends/file/file-backend.js'
export { fileBackend } from './backends/file/file-backend.js'
export type { JournalSync } from './backends/file/journal.js'
export { memoryBackend } from './backends/memory.js'
export type { SaveInfo } from './batch.js'
export type {
  MemoryCloseEvent,
  MemoryCompactionEvent,
  MemoryErrorEvent,
  MemoryOpenEvent,
  MemorySaveContext,
  MemoryWriteMode,
} from './diagnostics.js'
export { memoryChannels } from './diagnostics.js'
export type { MemoryErrorCode, MemoryErrorOptions } from './errors.js'
export { isMemoryError, MemoryError } from './errors.js'
export { estimateTokens } from './estimate-tokens.js'
export type {
  CheckedOptions,
  Memory,
  MemoryEvents,
  MemoryOptions,
  MemoryStats,
  PruneOptions,
} from './memory-api.js'
export type { ConversationId, Message, MessageInput, Role, StoredMessage } from './message.js'
export type { MigrateOptions, MigrateProgress, MigrateResult } from './migrate.js'
export { migrate } from './migrate.js'
export type { Reply, ReplyInput } from './reply.js'
export { openMemory } from './store.js'
export type { HistoryOptions, OverBudgetInfo } from './token-budget.js'
