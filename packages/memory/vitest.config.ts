import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'memory',
    include: ['test/**/*.test.ts'],
    // Many tests start the built CLI or a child process, twice or more: on a shared machine under
    // load, one such start alone can take seconds. A test that hangs still fails, later.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
