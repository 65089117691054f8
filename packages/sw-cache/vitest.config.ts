import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'sw-cache',
    include: ['test/**/*.test.ts'],
    // The browser suite launches Chromium once per file and installs a service worker per test.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
