import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  // ESM only: the Emscripten loader finds its .wasm through import.meta.url.
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // prebuilt/ (the output of native/build.sh) is copied next to index.js, where the loader looks.
  publicDir: 'prebuilt',
})
