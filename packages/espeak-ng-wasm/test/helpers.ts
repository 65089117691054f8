import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as EspeakNgModule from '../src/index.js'

/** The built package directory: the module, the .wasm and espeak-ng-data/. */
export const distDir = join(import.meta.dirname, '..', 'dist')
export const fixturesDir = join(import.meta.dirname, 'fixtures')
export const distIndexUrl = pathToFileURL(join(distDir, 'index.js')).href

/** Loads the BUILT package, so the real .wasm and the extracted data are used. */
export async function loadPackage(): Promise<typeof EspeakNgModule> {
  return (await import(distIndexUrl)) as typeof EspeakNgModule
}

/** An Italian sentence of about ten words. */
export const italian = 'Ciao! Come posso aiutarti oggi? Fammi sapere se ti serve altro.'

/** Root-mean-square level of 16-bit samples, 0..32768. */
export function rms(samples: Int16Array): number {
  let sum = 0
  for (const s of samples) sum += s * s
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length)
}
