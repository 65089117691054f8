import { defineConfig } from 'tsup'

export default defineConfig({
  // The manifest builder and its CLI run in Node at build time; no service worker imports them.
  // The client entry runs in pages.
  entry: {
    index: 'src/index.ts',
    client: 'src/client.ts',
    manifest: 'src/manifest.ts',
    'manifest-cli': 'src/manifest-cli.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', client: 'src/client.ts', manifest: 'src/manifest.ts' } },
  clean: true,
  sourcemap: true,
  // One shared chunk in both formats, so SwCacheError is one class across the entries.
  splitting: true,
  // Service workers run in browsers and edge runtimes: no Node built-ins in the main entry, modern
  // syntax only. The manifest entries' node: imports stay imports.
  target: 'es2022',
  // Folds the constants each module shares (freshness states, counter indexes) into the code that
  // uses them, as they are in the sources; left as variables, a bundler building a worker from
  // this package cannot fold them, and every worker would ship them.
  minifySyntax: true,
  platform: 'neutral',
  external: [/^node:/],
})
