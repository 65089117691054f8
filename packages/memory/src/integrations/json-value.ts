// What the integrations (AI SDK chats, grammY sessions, LangChain histories) store must come back
// exactly as it was given. The store keeps a JSON copy of every message, and JSON quietly changes
// some values (a Date becomes a string, NaN null, a Map {}); such a value is refused up front
// instead, naming where it is, so nothing is written that would read back different.

/**
 * Where `value` is not plain JSON data, as a phrase naming the place from `path`
 * (`messages[1].parts[0].createdAt is a Date`), or `undefined` when it is: plain objects, arrays,
 * strings, finite numbers, booleans and null. An `undefined` property is accepted (JSON leaves it
 * out, and a reader sees the property as missing either way); an `undefined` array item is not.
 */
export function jsonProblem(value: unknown, path: string): string | undefined {
  return problemAt(value, path, new Set())
}

function problemAt(value: unknown, path: string, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot hold`
    case 'undefined':
      return `${path} is undefined, which JSON cannot hold in an array`
    case 'bigint':
      return `${path} is a bigint (${value}n): store it as a string or a number`
    case 'symbol':
    case 'function':
      return `${path} is a ${typeof value}, which JSON cannot hold`
  }
  if (value === null) return undefined
  const object = value as object
  if (ancestors.has(object)) return `${path} refers back to itself (a cycle), which JSON cannot hold`
  if (Array.isArray(object)) {
    ancestors.add(object)
    for (let i = 0; i < object.length; i++) {
      const problem = problemAt(object[i], `${path}[${i}]`, ancestors)
      if (problem !== undefined) return problem
    }
    ancestors.delete(object)
    return undefined
  }
  const prototype = Object.getPrototypeOf(object)
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name
    const kind = typeof name === 'string' && name.length > 0 ? `a ${name}` : 'an object with a prototype'
    return `${path} is ${kind}, not a plain object, and would not read back the same: convert it to plain data (a Date to an ISO string)`
  }
  ancestors.add(object)
  for (const key of Object.keys(object)) {
    const item = (object as Record<string, unknown>)[key]
    if (item === undefined) continue
    const problem = problemAt(item, `${path}${propertyPath(key)}`, ancestors)
    if (problem !== undefined) return problem
  }
  ancestors.delete(object)
  return undefined
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/**
 * True when two JSON values are equal, property order aside; an `undefined` property counts as
 * missing, as in their JSON form.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const other = b as unknown[]
    if (a.length !== other.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], other[i])) return false
    return true
  }
  const left = a as Record<string, unknown>
  const right = b as Record<string, unknown>
  const leftKeys = Object.keys(left).filter((key) => left[key] !== undefined)
  const rightKeys = Object.keys(right).filter((key) => right[key] !== undefined)
  if (leftKeys.length !== rightKeys.length) return false
  for (const key of leftKeys) {
    if (!Object.hasOwn(right, key) || !jsonEqual(left[key], right[key])) return false
  }
  return true
}

/** A deep copy of a value {@link jsonProblem} accepted, as the store will hold it. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
