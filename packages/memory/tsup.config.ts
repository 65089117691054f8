import { defineConfig } from 'tsup'

export default defineConfig({
  // The compaction worker is its own entry: the file backend finds it next to itself through
  // import.meta.url.
  entry: {
    index: 'src/index.ts',
    redis: 'src/redis.ts',
    cli: 'src/cli.ts',
    'compact-worker': 'src/backends/file/compact-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/redis.ts'] },
  clean: true,
  sourcemap: true,
  // One shared chunk in both formats, so MemoryError is one class across the entries.
  splitting: true,
  target: 'node20',
  platform: 'node',
  // Gives the CJS build an import.meta.url, so both builds locate the worker the same way.
  shims: true,
})
