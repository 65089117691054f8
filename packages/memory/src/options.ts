import { show } from './message.js'

/**
 * Checks that `options` is a plain options object (or undefined) holding only known keys, and
 * returns it as a record for the per-option checks that follow.
 */
export function knownOptions(options: unknown, names: ReadonlySet<string>): Record<string, unknown> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${show(options)}`)
  }
  const record = options as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!names.has(key)) throw new TypeError(`unknown option ${JSON.stringify(key)}`)
  }
  return record
}
