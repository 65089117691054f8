import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'sw-cache',
    include: ['test/**/*.test.ts'],
  },
})
