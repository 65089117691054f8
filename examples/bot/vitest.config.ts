import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'bot',
    include: ['test/**/*.test.ts'],
    // The end-to-end files start the bot as a child process and drive Chromium.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
