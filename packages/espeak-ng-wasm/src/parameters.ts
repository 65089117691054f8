import { checkNames } from './known-names.js'

/** How espeak-ng speaks; every field is required. */
export interface EspeakNgParameters {
  /** Words per minute, 80..450 (espeak-ng's default is 175). */
  rate: number
  /** Loudness, 0..200; 100 is normal. */
  volume: number
  /** Base pitch, 0..99; 50 is normal. */
  pitch: number
}

const ranges = {
  rate: { min: 80, max: 450, unit: 'words per minute' },
  volume: { min: 0, max: 200, unit: '100 is normal' },
  pitch: { min: 0, max: 99, unit: '50 is normal' },
} as const

/** Checks the parameters and rounds them to the integers espeak-ng takes. */
export function validateParameters(parameters: EspeakNgParameters): EspeakNgParameters {
  if (typeof parameters !== 'object' || parameters === null) {
    throw new TypeError(
      `[@taurobot/espeak-ng-wasm] setParameters() needs an object { rate, volume, pitch }, got ${String(parameters)}`,
    )
  }
  checkNames(parameters, ['rate', 'volume', 'pitch'], 'setParameters()')
  const checked = { rate: 0, volume: 0, pitch: 0 }
  for (const field of ['rate', 'volume', 'pitch'] as const) {
    const value = parameters[field]
    const { min, max, unit } = ranges[field]
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new RangeError(
        `[@taurobot/espeak-ng-wasm] ${field} must be a number from ${min} to ${max} (${unit}), got ${String(value)}`,
      )
    }
    checked[field] = Math.round(value)
  }
  return checked
}
