import { pathToFileURL } from 'node:url'
import { describe } from '../describe.js'
import type { BuiltInEngineName, Engine, EngineModule } from '../engine.js'
import { isBuiltInEngine } from '../engine.js'
import { VoiceError } from '../errors.js'

// Loaded on worker threads only, so the main entry never carries engine code.
const builtIn: Record<BuiltInEngineName, () => Promise<Engine>> = {
  'espeak-ng-wasm': async () => new (await import('./espeak-ng-wasm.js')).EspeakNgWasmEngine(),
  'espeak-ng': async () => new (await import('./espeak-ng-binary.js')).EspeakNgBinaryEngine(),
}

/**
 * Creates the engine named by `spec`: a built-in name, or the absolute path / `file:` URL of a module
 * shaped like {@link EngineModule}.
 */
export async function createEngine(spec: string): Promise<Engine> {
  if (isBuiltInEngine(spec)) return builtIn[spec]()
  const url = spec.startsWith('file:') ? spec : pathToFileURL(spec).href
  let module: Partial<EngineModule> & { default?: unknown }
  try {
    module = (await import(url)) as Partial<EngineModule> & { default?: unknown }
  } catch (cause) {
    throw new VoiceError('engine-missing', `cannot load the engine module "${spec}". Check the path.`, {
      cause,
      details: { engine: spec },
    })
  }
  const factory = typeof module.createEngine === 'function' ? module.createEngine : module.default
  if (typeof factory !== 'function') {
    throw new VoiceError(
      'engine-missing',
      `the engine module "${spec}" exports no createEngine() function. Export one that returns an Engine.`,
      { details: { engine: spec } },
    )
  }
  const engine: unknown = (factory as () => unknown)()
  // Checked here, once per thread, so a malformed engine is named instead of failing every task
  // with "engine.synthesize is not a function".
  const problem = engineProblem(engine)
  if (problem !== undefined) {
    throw new VoiceError(
      'engine-missing',
      `createEngine() of the engine module "${spec}" returned ${problem}. Return an object with a ` +
        'synthesize(text, options, cancellation) method and, if the engine needs one, an init() method.',
      { details: { engine: spec } },
    )
  }
  return engine as Engine
}

/** What is wrong with the object a custom `createEngine()` returned, or undefined when nothing. */
function engineProblem(engine: unknown): string | undefined {
  if (typeof engine !== 'object' || engine === null) return `${describe(engine)} instead of an engine object`
  const { synthesize, init, then } = engine as Record<string, unknown>
  if (typeof then === 'function') return 'a Promise (prepare asynchronously in init() instead)'
  if (typeof synthesize !== 'function') return 'an object without a synthesize() method'
  if (init !== undefined && typeof init !== 'function')
    return `an object whose init is ${typeof init}, not a method`
  return undefined
}
