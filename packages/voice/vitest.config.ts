import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'voice',
    include: ['test/**/*.test.ts'],
    // Worker tests run against dist/, so the real worker entry is exercised; build it if stale.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
