/**
 * @packageDocumentation
 * @module @taurobot/sw-cache
 */

export type { SwCacheErrorCode, SwCacheErrorOptions } from './errors.js'
export { isSwCacheError, SwCacheError } from './errors.js'
