// Which `engine` values VoiceSystem accepts. Checked in the constructor, so that a name or a path
// the worker could never load throws in the caller's stack instead of failing the first task.
import { closest } from './closest.js'
import { describe } from './describe.js'
import { BUILT_IN_ENGINES } from './engine.js'
import { moduleLocation } from './module-location.js'

const howToPassOne =
  'or the absolute path or file: URL of a module exporting createEngine() ' +
  "(e.g. path.resolve('my-engine.js') or new URL('./my-engine.js', import.meta.url).href)"

/** Checks the `engine` option: a built-in name, an absolute path or a `file:` URL. */
export function checkEngine(engine: unknown): string {
  const names = BUILT_IN_ENGINES.map((name) => `"${name}"`).join(' or ')
  if (typeof engine !== 'string' || engine === '') {
    throw new TypeError(`engine must be ${names}, ${howToPassOne}, got ${describe(engine)}`)
  }
  if (BUILT_IN_ENGINES.includes(engine)) return engine
  const location = moduleLocation(engine)
  if (location === 'complete') return engine
  if (location === 'partial-url') {
    throw new RangeError(
      `engine must be a complete file: URL such as "file:///srv/bot/my-engine.js", got ${describe(engine)}`,
    )
  }
  // A bare name is not looked up as a package: a typo of a built-in name is likelier.
  const meant = closest(engine, BUILT_IN_ENGINES)
  throw new RangeError(
    `engine must be one of the built-in engines ${names}, ${howToPassOne}, got ${describe(engine)}` +
      (meant === undefined ? '' : `: did you mean "${meant}"?`),
  )
}
