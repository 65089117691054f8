// Band-limited resampling of mono 16-bit PCM with a Hann-windowed sinc. The filter taps depend only
// on the output sample's fractional position, so they are computed once per rate pair and phase
// (22 050 -> 48 000 Hz has 320 phases) and each output sample costs `2 * halfTaps` multiply-adds.

const halfTaps = 6
const maxPhases = 1024

interface Table {
  phases: number
  step: number // input samples advanced per output sample
  scale: number // input-rate cutoff relative to Nyquist (1 when upsampling)
  taps: Float32Array // phases * 2 * halfTaps coefficients
}

const tables = new Map<string, Table>()

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}

function tableFor(fromRate: number, toRate: number): Table {
  const key = `${fromRate}:${toRate}`
  const cached = tables.get(key)
  if (cached) return cached
  const exactPhases = toRate / gcd(fromRate, toRate)
  const phases = Math.min(exactPhases, maxPhases)
  const step = fromRate / toRate
  const scale = Math.min(1, toRate / fromRate)
  const width = 2 * halfTaps
  const taps = new Float32Array(phases * width)
  for (let p = 0; p < phases; p++) {
    const frac = p / phases
    let sum = 0
    for (let k = 0; k < width; k++) {
      // Distance (in input samples) from the output position to input sample floor(t) - halfTaps + 1 + k.
      const x = frac - (k - halfTaps + 1)
      const xs = x * scale
      const sinc = xs === 0 ? 1 : Math.sin(Math.PI * xs) / (Math.PI * xs)
      const window = 0.5 + 0.5 * Math.cos((Math.PI * x) / (halfTaps / scale + 1))
      const value = sinc * window
      taps[p * width + k] = value
      sum += value
    }
    // Normalise each phase to unit DC gain so silence stays silent and levels do not ripple.
    for (let k = 0; k < width; k++) taps[p * width + k] = (taps[p * width + k] as number) / sum
  }
  const table = { phases, step, scale, taps }
  tables.set(key, table)
  return table
}

/** Resamples mono PCM from `fromRate` to `toRate`; returns the input unchanged when they match. */
export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return input
  const { phases, step, taps } = tableFor(fromRate, toRate)
  const width = 2 * halfTaps
  const outLength = Math.floor((input.length * toRate) / fromRate)
  const out = new Int16Array(outLength)
  const last = input.length - 1
  for (let j = 0; j < outLength; j++) {
    const t = j * step
    const base = Math.floor(t)
    const phase = Math.min(phases - 1, Math.round((t - base) * phases))
    const offset = phase * width
    const start = base - halfTaps + 1
    let acc = 0
    if (start >= 0 && start + width - 1 <= last) {
      for (let k = 0; k < width; k++) acc += (input[start + k] as number) * (taps[offset + k] as number)
    } else {
      for (let k = 0; k < width; k++) {
        const i = start + k
        if (i >= 0 && i <= last) acc += (input[i] as number) * (taps[offset + k] as number)
      }
    }
    out[j] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc)
  }
  return out
}
