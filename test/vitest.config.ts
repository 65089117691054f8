import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'packaging',
    include: ['**/*.test.ts'],
    // Packing and installing tarballs into a scratch project talks to the npm registry.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
})
