// JSON quietly changes some values (a Date becomes a string, NaN null, a Map {}). What the
// integrations (AI SDK chats, grammY sessions, LangChain histories) store must come back exactly as
// it was given, so they refuse every such value up front, naming where it is. add() and upsert()
// take messages as JSON would write them (a Date as its ISO string, via its toJSON()), but refuse
// what would lose data without a word: a Map or Set, NaN, an undefined array item...

/** How strict {@link jsonProblem} is. */
export interface JsonProblemOptions {
  /**
   * Accept what JSON changes in a documented way: an object with a toJSON() method (a Date) is
   * written as that method's result, and a function or symbol property is left out like an
   * undefined one.
   * Off for the integrations, which must read back exactly what they were given.
   */
  readonly asJsonWould?: boolean
}

/**
 * Where `value` is not plain JSON data, as a phrase naming the place from `path`
 * (`messages[1].parts[0].createdAt is a Date`), or `undefined` when it is: plain objects, arrays,
 * strings, finite numbers, booleans and null. An `undefined` property is accepted (JSON leaves it
 * out, and a reader sees the property as missing either way); an `undefined` array item is not.
 */
export function jsonProblem(
  value: unknown,
  path: string,
  options: JsonProblemOptions = {},
): string | undefined {
  return problemAt(value, path, new Set(), options.asJsonWould === true)
}

function problemAt(
  value: unknown,
  path: string,
  ancestors: Set<object>,
  asJsonWould: boolean,
): string | undefined {
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
  if (asJsonWould && typeof (object as { toJSON?: unknown }).toJSON === 'function') return undefined
  if (ancestors.has(object)) return `${path} refers back to itself (a cycle), which JSON cannot hold`
  if (Array.isArray(object)) {
    ancestors.add(object)
    for (let i = 0; i < object.length; i++) {
      const problem = problemAt(object[i], `${path}[${i}]`, ancestors, asJsonWould)
      if (problem !== undefined) return problem
    }
    ancestors.delete(object)
    return undefined
  }
  const prototype = Object.getPrototypeOf(object)
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name
    const kind = typeof name === 'string' && name.length > 0 ? `a ${name}` : 'an object with a prototype'
    return `${path} is ${kind}, not a plain object, and would not read back the same: convert it to plain data${asJsonWould ? '' : ' (a Date to an ISO string)'}`
  }
  ancestors.add(object)
  for (const key of Object.keys(object)) {
    const item = (object as Record<string, unknown>)[key]
    if (item === undefined || (asJsonWould && (typeof item === 'function' || typeof item === 'symbol')))
      continue
    const problem = problemAt(item, `${path}${propertyPath(key)}`, ancestors, asJsonWould)
    if (problem !== undefined) return problem
  }
  ancestors.delete(object)
  return undefined
}

/** How a property is named in a path: `.name`, or `["odd key"]`. */
export function propertyPath(key: string): string {
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
