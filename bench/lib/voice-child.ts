// One voice configuration in a fresh process: its threads, peak RSS, CPU and wall time, and when its
// last task finished, so the parent can time how long the process takes to exit by itself. It does
// not close anything on purpose: a bot that forgets cleanup must still exit.
import { writeSync } from 'node:fs'
import { Piscina } from 'piscina'
import {
  PerInstanceVoiceSystem,
  SharedPiscinaVoiceSystem,
  voiceWorkerPath,
} from '../baselines/per-instance-voice.js'
import { italianSentences } from './italian.js'
import { readStatus } from './proc.js'

export type VoiceMode = 'per-instance' | 'piscina-defaults' | 'ours' | 'floor'

export interface VoiceChildReport {
  mode: VoiceMode
  instances: number
  sentences: number
  workerThreadsMax: number
  osThreadsBefore: number
  osThreadsMax: number
  peakRssBytes: number
  cpuMs: number
  wallMs: number
  audioMs: number
  lastTaskDoneEpochMs: number
}

const [mode, instancesText, sentencesText] = process.argv.slice(2) as [VoiceMode, string, string]
const instances = Number(instancesText)
const sentences = italianSentences(Number(sentencesText))

const statusBefore = readStatus()
let osThreadsMax = statusBefore.threads
let workerThreadsMax = 0
let countWorkers: () => number = () => 0
const sampler = setInterval(() => {
  osThreadsMax = Math.max(osThreadsMax, readStatus().threads)
  workerThreadsMax = Math.max(workerThreadsMax, countWorkers())
}, 10)

const cpu0 = process.cpuUsage()
const t0 = performance.now()
let speak: Array<(text: string) => Promise<{ durationMs?: number }>>
if (mode === 'floor') {
  // No speech at all: how long this process takes to exit once it has nothing left to do.
  speak = [async () => ({ durationMs: 0 })]
} else if (mode === 'ours') {
  const { VoiceSystem, voicePool } = await import('@taurobot/voice')
  countWorkers = () => voicePool.stats().threads
  speak = Array.from({ length: instances }, () => {
    const voice = new VoiceSystem({ language: 'it', rate: 150, volume: 1.0 })
    return (text) => voice.synthesize(text, { format: 'ogg' })
  })
} else if (mode === 'per-instance') {
  const systems = Array.from({ length: instances }, () => new PerInstanceVoiceSystem(voiceWorkerPath()))
  countWorkers = () => systems.reduce((n, s) => n + s.pool.threads.length, 0)
  speak = systems.map((s) => (text) => s.synthesize(text))
} else {
  const pool = new Piscina({ filename: voiceWorkerPath(), name: 'runTask' })
  countWorkers = () => pool.threads.length
  speak = Array.from({ length: instances }, () => {
    const s = new SharedPiscinaVoiceSystem(pool)
    return (text) => s.synthesize(text)
  })
}
// All sentences at once, spread over the instances, as replies to many chats would arrive.
const results = await Promise.all(
  sentences.map((text, i) =>
    (speak[i % speak.length] as (t: string) => Promise<{ durationMs?: number }>)(text),
  ),
)
const lastTaskDoneEpochMs = performance.timeOrigin + performance.now()
const wallMs = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
clearInterval(sampler)
osThreadsMax = Math.max(osThreadsMax, readStatus().threads)
workerThreadsMax = Math.max(workerThreadsMax, countWorkers())
const report: VoiceChildReport = {
  mode,
  instances,
  sentences: sentences.length,
  workerThreadsMax,
  osThreadsBefore: statusBefore.threads,
  osThreadsMax,
  peakRssBytes: readStatus().peakRssBytes,
  cpuMs: (cpu.user + cpu.system) / 1000,
  wallMs,
  audioMs: results.reduce((n, r) => n + (r.durationMs ?? 0), 0),
  lastTaskDoneEpochMs,
}
process.stdout.write(`VOICE_REPORT ${JSON.stringify(report)}\n`)
// 'exit' fires once nothing is left to do; what follows is the runtime's own teardown. Written
// synchronously: an asynchronous write would not happen any more.
process.on('exit', () => {
  writeSync(1, `VOICE_EXIT ${performance.timeOrigin + performance.now()}\n`)
})
