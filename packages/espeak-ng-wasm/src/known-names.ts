import { closest } from './closest.js'

// Names other speech APIs use for these fields, which a typo search would not find.
const synonyms: Readonly<Record<string, string>> = { speed: 'rate', amplitude: 'volume' }

/**
 * Throws a `TypeError` naming the first key of `object` that is not in `names`, with the name
 * probably meant: JavaScript would otherwise ignore `{ speed: 200 }` without a word.
 */
export function checkNames(object: object, names: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (names.includes(key)) continue
    const synonym = synonyms[key.toLowerCase()]
    const meant = synonym !== undefined && names.includes(synonym) ? synonym : closest(key, names)
    throw new TypeError(
      `[@taurobot/espeak-ng-wasm] ${where} has no option ${JSON.stringify(key)}: ` +
        (meant === undefined ? `it takes ${names.join(', ')}` : `did you mean ${meant}?`),
    )
  }
}
