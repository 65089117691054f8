// How an error message shows a value the caller passed: a string quoted, anything else as
// String() gives it. One helper for the option checks of the whole package.

/** `"it"` for a string, `0`, `null`, `[object Object]` for the rest. */
export function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
