import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** Which build of the libraries is bundled, per `process.env.NODE_ENV`. */
export type NodeEnv = 'production' | 'development'

/**
 * Bundles `source` (resolved from `resolveDir`) for the browser, minified; returns the code. The
 * production build is what `esbuild --bundle --minify` gives for the browser without any define
 * (esbuild then defines NODE_ENV as "production" by itself); it is stated explicitly here.
 */
export async function bundle(
  source: string,
  resolveDir: string,
  minify = true,
  nodeEnv: NodeEnv = 'production',
): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'js', sourcefile: 'sw.js' },
    bundle: true,
    minify,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    // Workbox and Serwist strip their development logging when this is "production", as their docs
    // recommend; @taurobot/sw-cache its option checks and long error messages.
    define: { 'process.env.NODE_ENV': JSON.stringify(nodeEnv) },
  })
  return result.outputFiles[0]?.text ?? ''
}

/** Minified size and gzip -9 size in bytes. */
export async function minGzipSize(
  source: string,
  resolveDir: string,
  nodeEnv: NodeEnv = 'production',
): Promise<{ min: number; gzip: number }> {
  const code = await bundle(source, resolveDir, true, nodeEnv)
  return { min: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length }
}
