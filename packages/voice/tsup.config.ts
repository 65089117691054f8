import { defineConfig } from 'tsup'

export default defineConfig({
  // The worker is its own entry: the pool finds it next to index.js through import.meta.url.
  // metrics is the `./metrics` subpath, kept apart so that only its users need prom-client.
  entry: ['src/index.ts', 'src/worker.ts', 'src/metrics.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // Gives the CJS build an import.meta.url, so both builds locate the worker the same way.
  shims: true,
  // Non-ASCII text as UTF-8 rather than \u escapes: the emoji names table is a third the size.
  esbuildOptions(options) {
    options.charset = 'utf8'
  },
  // Runtime dependencies stay imports; the GPL engines are optional peers, never bundled.
  external: [
    'piscina',
    'opusscript',
    'prom-client',
    '@taurobot/espeak-ng-wasm',
    '@echogarden/espeak-ng-emscripten',
  ],
})
