import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/redis.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/redis.ts'] },
  clean: true,
  sourcemap: true,
  // One shared chunk in both formats, so MemoryError is one class across the entries.
  splitting: true,
  target: 'node20',
  platform: 'node',
})
