// Stands in for packages/voice/src/diagnostics.ts in the voice-diagnostics bench's "publishing
// skipped" build of the pool: channels that never have subscribers, read as plain constants, so
// the pool runs exactly as if it had no diagnostics at all. Same exports, no node:diagnostics_channel.

const silent = { hasSubscribers: false as const }

export const voiceChannels = {
  task: 'taurobot:voice:task',
  engineInit: 'taurobot:voice:engine-init',
  pool: 'taurobot:voice:pool',
} as const

export const taskChannel = {
  ...silent,
  tracePromise(): never {
    throw new Error('unreachable: the skipped build never has subscribers')
  },
}
export const engineInitChannel = { ...silent, publish(): void {} }
export const poolChannel = { ...silent, publish(): void {} }

export function publishPool(): void {}
