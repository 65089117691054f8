import { defineConfig } from 'tsup'

export default defineConfig({
  // The worker is its own entry: the pool finds it next to index.js through import.meta.url.
  entry: ['src/index.ts', 'src/worker.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // Gives the CJS build an import.meta.url, so both builds locate the worker the same way.
  shims: true,
  // Runtime dependencies stay imports; the GPL engines are optional peers, never bundled.
  external: ['piscina', 'opusscript', '@taurobot/espeak-ng-wasm', '@echogarden/espeak-ng-emscripten'],
})
