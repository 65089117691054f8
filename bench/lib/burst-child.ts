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
        // Messages reach a bot as separate I/O events: yield to the loop between them.
        await new Promise((resolve) => setImmediate(resolve))
      } catch {
        failed += 1
      }
    }
  }),
)
const ms = performance.now() - t0
// Let the delay timer fire once more, so a block at the very end is recorded too.
await new Promise((resolve) => setTimeout(resolve, 5))
delay.disable()
if (ending === 'close') await store.close()
process.send?.({ acked, failed, ms, delayMaxMs: delay.max / 1e6 })
// Wait for the parent's SIGKILL (or disconnect): nothing is flushed on the way out.
process.on('disconnect', () => process.exit(0))
setInterval(() => {}, 1000)
