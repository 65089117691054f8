// Compile-time checks of openMemory's options: `npm run typecheck` fails when a line marked as an
// expected error compiles or another line does not. The calls are never made (the function is
// only passed to `expectTypeOf`), so nothing is opened.
import { describe, expectTypeOf, it } from 'vitest'
import { type Backend, type Memory, type MemoryOptions, memoryBackend, openMemory } from '../src/index.js'

type Open = (options?: never) => Promise<Memory>

describe('openMemory options (types)', () => {
  it('refuses path and backend together, and unknown options, at compile time', () => {
    const typeChecks = () => {
      const backend: Backend = memoryBackend()
      // @ts-expect-error path and backend cannot be used together
      void openMemory({ path: 'x.db', backend: memoryBackend() })
      // @ts-expect-error same with variables whose types cannot be undefined
      void openMemory({ path: 'x.json' as string, backend })
      // @ts-expect-error an unknown option (a typo) is refused as before
      void openMemory({ backend, maxMesages: 3 })
      // @ts-expect-error a wrong type is refused as before
      void openMemory({ maxMessages: '3' })
    }
    expectTypeOf(typeChecks).toBeFunction()
  })

  it('accepts every call that can be right at run time', () => {
    const typeChecks = (options: MemoryOptions, path: string | undefined, maybe: Backend | undefined) => {
      const backend = memoryBackend()
      void openMemory()
      void openMemory({})
      void openMemory({ path: 'memory/conversations.db' })
      void openMemory({ backend, flushOnExit: false })
      // Callbacks keep their parameter types.
      void openMemory({ backend, onSave: (info) => info.bytes, onError: (error) => void error })
      // Options typed as the interface, spread into a call: checked at run time.
      void openMemory(options)
      void openMemory({ backend, ...options })
      void openMemory({ ...options, flushOnExit: false })
      // Either may be undefined: the run-time check decides.
      void openMemory({ path, backend: maybe })
      const saved = { path: 'a.json', maxMessages: 3 }
      void openMemory(saved)
    }
    expectTypeOf(typeChecks).toBeFunction()
    expectTypeOf(openMemory).toExtend<Open>()
    expectTypeOf(openMemory).returns.resolves.toEqualTypeOf<Memory>()
  })
})
