import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** Bundles `source` (resolved from `resolveDir`) for the browser, minified; returns the code. */
export async function bundle(source: string, resolveDir: string, minify = true): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'js', sourcefile: 'sw.js' },
    bundle: true,
    minify,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    // Workbox strips its development logging when this is "production", as its docs recommend.
    define: { 'process.env.NODE_ENV': '"production"' },
  })
  return result.outputFiles[0]?.text ?? ''
}

/** Minified size and gzip -9 size in bytes. */
export async function minGzipSize(
  source: string,
  resolveDir: string,
): Promise<{ min: number; gzip: number }> {
  const code = await bundle(source, resolveDir)
  return { min: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length }
}
