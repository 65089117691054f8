// Data flows one way inside a package: no module of a package's src/ may reach itself again through
// its relative imports, type-only imports included (they still tie the modules' designs together).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const packages = readdirSync(join(root, 'packages'))

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => resolve(dir, file))
}

/** Each module's relative imports (static, dynamic, type-only and re-exports) within `files`. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const targets = importedFiles
      .map(({ fileName }) => fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')))
      .filter((target) => known.has(target))
    graph.set(file, targets)
  }
  return graph
}

/** Every cycle found by a depth-first walk, each as the chain of files that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const done = new Set<string>()
  const path: string[] = []
  const visit = (file: string): void => {
    path.push(file)
    for (const target of graph.get(file) ?? []) {
      const at = path.indexOf(target)
      if (at !== -1) found.push([...path.slice(at), target])
      else if (!done.has(target)) visit(target)
    }
    path.pop()
    done.add(file)
  }
  for (const file of graph.keys()) if (!done.has(file)) visit(file)
  return found
}

describe.each(packages)('packages/%s/src', (dir) => {
  it('has no import cycle', () => {
    const src = join(root, 'packages', dir, 'src')
    const found = cycles(importGraph(sources(src))).map((chain) =>
      chain.map((file) => relative(src, file)).join(' -> '),
    )
    expect(found).toEqual([])
  })
})
