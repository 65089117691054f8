import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'espeak-ng-wasm',
    include: ['test/**/*.test.ts'],
    // Tests run against dist/ (the module, the .wasm and the extracted data); build it if stale.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
