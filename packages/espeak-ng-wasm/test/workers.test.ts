import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { distIndexUrl, fixturesDir, italian, loadPackage } from './helpers.js'

function runWorker(wasmModule: WebAssembly.Module, text: string): Promise<{ length: number; rms: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(fixturesDir, 'worker.mjs'), {
      workerData: { indexUrl: distIndexUrl, wasmModule, text },
    })
    worker.once('message', (message) => {
      resolve(message)
      void worker.terminate()
    })
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)))
  })
}

describe('worker threads', () => {
  it('two engines instantiated from one compiled module, in two threads, both speak', async () => {
    const { compileEspeakNg } = await loadPackage()
    const wasmModule = await compileEspeakNg()
    expect(wasmModule).toBeInstanceOf(WebAssembly.Module)
    const [first, second] = await Promise.all([
      runWorker(wasmModule, italian),
      runWorker(wasmModule, 'Buonasera, il tuo ordine è pronto.'),
    ])
    for (const result of [first, second]) {
      expect(result.length / 22050).toBeGreaterThan(0.5)
      expect(result.rms).toBeGreaterThan(500)
    }
    expect(first.length).not.toBe(second.length)
  })
})
