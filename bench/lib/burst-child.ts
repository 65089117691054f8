// One burst run in its own process, so the parent can SIGKILL it right after the last
// acknowledgement and then check, from the files alone, that every acknowledged message is there.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { openStore, type StoreKind } from './memory-stores.js'

const [kind, dir, writersText, roundsText, durability, ending] = process.argv.slice(2) as [
  StoreKind,
  string,
  string,
  string,
  'batched' | 'strict',
  'kill' | 'close',
]
const writers = Number(writersText)
const rounds = Number(roundsText)

const store = await openStore(kind, dir, { durability, saveEvery: 5 })
const acked: string[] = []
let failed = 0
const delay = monitorEventLoopDelay({ resolution: 1 })
delay.enable()
const t0 = performance.now()
await Promise.all(
  Array.from({ length: writers }, async (_, w) => {
    for (let r = 0; r < rounds; r++) {
      const content = `burst w${w} r${r}`
      try {
        await store.add({ user: w, role: r % 2 === 0 ? 'user' : 'assistant', content })
        acked.push(content)
      } catch {
        failed += 1
      }
    }
  }),
)
const ms = performance.now() - t0
delay.disable()
if (ending === 'close') await store.close()
process.send?.({ acked, failed, ms, delayMaxMs: delay.max / 1e6 })
// Wait for the parent's SIGKILL (or disconnect): nothing is flushed on the way out.
process.on('disconnect', () => process.exit(0))
setInterval(() => {}, 1000)
