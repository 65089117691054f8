import { closest } from './closest.js'
import { show } from './message.js'

// Option checks shared by openMemory, every backend and migrate: a wrong value is a TypeError
// (wrong type) or RangeError (right type, out of range) whose message names the option and value.

/**
 * Checks that `options` is a plain options object (or undefined) holding only known keys, and
 * returns it as a record for the per-option checks that follow. `belongsElsewhere` names where an
 * option that is not known here goes instead, for the error message.
 */
export function knownOptions(
  options: unknown,
  names: ReadonlySet<string>,
  belongsElsewhere: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${show(options)}`)
  }
  const record = options as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (names.has(key)) continue
    const owner = Object.hasOwn(belongsElsewhere, key) ? belongsElsewhere[key] : undefined
    if (owner !== undefined) {
      throw new TypeError(`unknown option ${JSON.stringify(key)}: it is an option of ${owner}`)
    }
    const near = closest(key, names)
    throw new TypeError(
      near === undefined
        ? `unknown option ${JSON.stringify(key)}; the options are ${[...names].join(', ')}`
        : `unknown option ${JSON.stringify(key)}: did you mean ${near}?`,
    )
  }
  return record
}

/** An integer in `[min, max]`, or `fallback` when undefined. */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${name} must be an integer, got ${show(value)}`)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${show(value)}`)
  }
  return value
}

/** A positive integer up to `max`, or `fallback` when undefined. */
export function positiveInteger(
  name: string,
  value: unknown,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${name} must be a positive integer, got ${show(value)}`)
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be a positive integer up to ${max}, got ${show(value)}`)
  }
  return value
}

/** A finite number above zero, or `fallback` when undefined. */
export function positiveNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${name} must be a positive number, got ${show(value)}`)
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${show(value)}`)
  }
  return value
}

/** A boolean, or `fallback` when undefined. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${show(value)}`)
  return value
}

/**
 * A non-empty string, or `fallback` when undefined (a required option passes no fallback).
 * `remedy` ends the error, for an option with an alternative (`pass path or database`).
 */
export function nonEmptyString(name: string, value: unknown, fallback?: string, remedy?: string): string {
  const given = value === undefined ? fallback : value
  if (typeof given !== 'string' || given.length === 0) {
    const end = remedy === undefined ? '' : `: ${remedy}`
    throw new TypeError(`${name} must be a non-empty string, got ${show(value)}${end}`)
  }
  return given
}

/** One of `choices`, or `fallback` when undefined. */
export function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!(choices as readonly unknown[]).includes(value)) {
    const list = choices.map((choice) => `'${choice}'`).join(' or ')
    throw new TypeError(`${name} must be ${list}, got ${show(value)}`)
  }
  return value as T
}

/**
 * `true`, `false` or one of `choices`, or `fallback` when undefined: an option that is on, off, or
 * set by the library (`worker: 'auto'`).
 */
export function booleanOrOneOf<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
  fallback: boolean | T,
): boolean | T {
  if (value === undefined) return fallback
  if (typeof value === 'boolean' || (choices as readonly unknown[]).includes(value))
    return value as boolean | T
  const list = choices.map((choice) => `'${choice}'`).join(' or ')
  throw new TypeError(`${name} must be true, false or ${list}, got ${show(value)}`)
}

/** A function, or undefined. */
export function optionalFunction<T>(name: string, value: unknown): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${show(value)}`)
  return value as T
}
