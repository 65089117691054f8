/**
 * @packageDocumentation
 * @module @taurobot/memory
 */

export type { MemoryErrorCode, MemoryErrorOptions } from './errors.js'
export { isMemoryError, MemoryError } from './errors.js'
