import { defineConfig } from 'vitest/config'

// One run covers every package, the examples and the packaging checks; each project keeps its
// own settings in its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts', 'test/vitest.config.ts'],
  },
})
