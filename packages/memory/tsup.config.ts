import { defineConfig } from 'tsup'

export default defineConfig({
  // The workers are entries of their own: the file backend (compaction) and the SQLite backend
  // (commits) find them next to themselves through import.meta.url.
  entry: {
    index: 'src/index.ts',
    redis: 'src/redis.ts',
    sqlite: 'src/sqlite.ts',
    'ai-sdk': 'src/ai-sdk.ts',
    grammy: 'src/grammy.ts',
    langchain: 'src/langchain.ts',
    cli: 'src/cli.ts',
    'compact-worker': 'src/backends/file/compact-worker.ts',
    'sqlite-write-worker': 'src/backends/sqlite/write-worker.ts',
  },
  format: ['esm', 'cjs'],
  dts: {
    entry: [
      'src/index.ts',
      'src/redis.ts',
      'src/sqlite.ts',
      'src/ai-sdk.ts',
      'src/grammy.ts',
      'src/langchain.ts',
    ],
  },
  clean: true,
  sourcemap: true,
  // One shared chunk in both formats, so MemoryError is one class across the entries.
  splitting: true,
  target: 'node20',
  platform: 'node',
  // Gives the CJS build an import.meta.url, so both builds locate the worker the same way.
  shims: true,
})
