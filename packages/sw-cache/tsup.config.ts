import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // Service workers run in browsers and edge runtimes: no Node built-ins, modern syntax only.
  target: 'es2022',
  platform: 'neutral',
})
