import { pathToFileURL } from 'node:url'
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
  return (factory as () => Engine)()
}
