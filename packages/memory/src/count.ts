/** `1 conversation`, `2 conversations`: a count with its noun, for messages people read. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
