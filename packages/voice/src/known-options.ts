import { closest } from './closest.js'
import { describe } from './describe.js'

// An option name the package does not know is ignored by JavaScript without a word: `{ lang: 'it' }`
// would speak English. Every options object is therefore checked for unknown names first.

/**
 * Names used by other speech libraries and the option they mean here, for hints that a typo
 * search would not find (`speed` is far from `rate`).
 */
const synonyms: Readonly<Record<string, string>> = {
  lang: 'language',
  locale: 'language',
  speed: 'rate',
  wpm: 'rate',
  threads: 'maxThreads',
  concurrency: 'maxThreads',
  workers: 'maxThreads',
  timeout: 'timeoutMs',
}

/**
 * Throws a `TypeError` naming the first key of `options` that is not in `names`, with the option
 * probably meant. `where` says whose options they are ("new VoiceSystem()").
 */
export function checkOptionNames(options: object, names: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (names.includes(key)) continue
    const synonym = synonyms[key.toLowerCase()]
    const meant = synonym !== undefined && names.includes(synonym) ? synonym : closest(key, names)
    const hint = meant === undefined ? `known options: ${names.join(', ')}` : `did you mean ${meant}?`
    throw new TypeError(`unknown option ${JSON.stringify(key)} of ${where}: ${hint}`)
  }
}

/**
 * Throws a `TypeError` unless `options` is an options object: not `null`, not a primitive, and not
 * an array, which has no option names to check and would otherwise pass as "no options".
 */
export function checkOptionsObject(options: unknown, where: string): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where} options must be an object, got ${describe(options)}`)
  }
}
