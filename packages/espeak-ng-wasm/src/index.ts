export type {
  EspeakNg,
  EspeakNgSynthesis,
  EspeakNgSynthesizeOptions,
  LoadEspeakNgOptions,
} from './engine.js'
export { compileEspeakNg, espeakNgDataPath, loadEspeakNg } from './engine.js'
export type { EspeakNgErrorCode } from './errors.js'
export { EspeakNgError } from './errors.js'
export type { EspeakNgParameters } from './parameters.js'
