import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

// One run covers every package, the examples and the packaging checks; each project keeps its
// own settings in its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts', 'test/vitest.config.ts'],
    // Most test files wait on fsync, child processes, Redis and Chromium rather than on the CPU, so
    // at least two run at once even on a 2-core machine (vitest's default there is one): the run
    // takes about half the time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
})
