// How an error message shows a value the caller passed: a string quoted, an array by its kind,
// anything else as String() gives it; and which class the error is. The helpers of the option
// checks of the whole package.

/** `"it"` for a string, `an array` for an array, `0`, `null`, `[object Object]` for the rest. */
export function describe(value: unknown): string {
  // String() of an array is its items joined: `['it']` would read as a valid "it".
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/**
 * The error refusing `value`: a `TypeError` when it is not of the `type` the option takes (`'150'`
 * for a rate), a `RangeError` when it is but is out of range (`0`, `NaN`, `"mp3"`).
 */
export function refusal(value: unknown, type: 'number' | 'string', message: string): TypeError | RangeError {
  return typeof value === type ? new RangeError(message) : new TypeError(message)
}
