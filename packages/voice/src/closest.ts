/**
 * Edit distance between two strings, case-insensitively: insertions, deletions, substitutions, and
 * swaps of two neighbouring letters, the commonest typo (`emjoi` is one edit from `emoji`, not two).
 */
function distance(a: string, b: string): number {
  const left = a.toLowerCase()
  const right = b.toLowerCase()
  // Rows i - 2, i - 1 and i of the table of distances between prefixes.
  let before: number[] = []
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index)
  for (let i = 1; i <= left.length; i++) {
    const current = [i]
    for (let j = 1; j <= right.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (left[i - 1] === right[j - 1] ? 0 : 1)
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution)
      if (i > 1 && j > 1 && left[i - 1] === right[j - 2] && left[i - 2] === right[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1)
      }
      current.push(best)
    }
    before = previous
    previous = current
  }
  return previous[right.length] ?? 0
}

/**
 * The candidate nearest to `name`, for a "did you mean" hint; undefined when none is near enough to
 * be a likely typo (a third of the name's letters, at least one).
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1
  for (const candidate of candidates) {
    const d = distance(name, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}
