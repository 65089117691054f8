// How an error message shows a value the caller passed: a string quoted, an array by its kind,
// anything else as String() gives it. One helper for the option checks of the whole package.

/** `"it"` for a string, `an array` for an array, `0`, `null`, `[object Object]` for the rest. */
export function describe(value: unknown): string {
  // String() of an array is its items joined: `['it']` would read as a valid "it".
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
