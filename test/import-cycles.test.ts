// Data flows one way inside a package: no module of a package's src/ may reach itself again through
// its relative imports, type-only imports included (they still tie the modules' designs together).
// The example bot's src/ and the bench (its runner, lib/, peers/ and baselines/) are held to the same
// rule.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const packages = readdirSync(join(root, 'packages'))

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !/(^|\/)(node_modules|results|\.tmp)\//.test(file))
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

const trees = [...packages.map((name) => `packages/${name}/src`), 'examples/bot/src', 'bench']

describe.each(trees)('%s', (tree) => {
  it('has no import cycle', () => {
    const dir = join(root, tree)
    const files = sources(dir)
    expect(files.length).toBeGreaterThan(0)
    const found = cycles(importGraph(files)).map((chain) =>
      chain.map((file) => relative(dir, file)).join(' -> '),
    )
    expect(found).toEqual([])
  })
})
