import { readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { closest } from './closest.js'
import { EspeakNgError } from './errors.js'

/**
 * The voices an `espeak-ng-data/` directory holds: languages (files under `lang/`) and variants
 * (files under `voices/!v/`). A name is checked here before espeak-ng sees it, because espeak-ng
 * itself prints its complaints on the process's stderr and then speaks silence, or quietly drops
 * a variant it cannot find.
 */
export class VoiceCatalog {
  /**
   * Lower-case language name or `lang/` path → the language's path under `lang/` as spelled in the
   * data ("it" and "roa/it" → "roa/it"). espeak-ng is given that path: it opens the file at once,
   * whereas a bare name ("it") is not a file it can open, so it reads every voice file of the data
   * (over 300) to find it, about as long as the rest of start-up together.
   */
  readonly #languages = new Map<string, string>()
  /** Lower-case variant → the variant as spelled in the data ("marco" → "Marco"). */
  readonly #variants = new Map<string, string>()

  constructor(dataDirectory: string) {
    const langDirectory = join(dataDirectory, 'lang')
    for (const path of files(langDirectory)) {
      const name = relative(langDirectory, path).split(sep).join('/')
      this.#languages.set(name.toLowerCase(), name)
      const base = name.slice(name.lastIndexOf('/') + 1)
      this.#languages.set(base.toLowerCase(), name)
    }
    for (const path of files(join(dataDirectory, 'voices', '!v'))) {
      const name = path.slice(path.lastIndexOf(sep) + 1)
      this.#variants.set(name.toLowerCase(), name)
    }
  }

  /** True when the data holds the language `name` (no variant). */
  hasLanguage(name: string): boolean {
    return this.#languages.has(name.toLowerCase())
  }

  /**
   * The name as espeak-ng's data spells it, the language as its path ("IT+marco" → "roa/it+Marco").
   * @throws {@link EspeakNgError} `unknown-voice` naming the part that is unknown and the closest one.
   */
  resolve(name: string): string {
    const plus = name.indexOf('+')
    const language = plus === -1 ? name : name.slice(0, plus)
    const variant = plus === -1 ? undefined : name.slice(plus + 1)
    const knownLanguage = this.#languages.get(language.toLowerCase())
    if (knownLanguage === undefined) {
      const asVariant = this.#variants.get(language.toLowerCase())
      const hint =
        asVariant !== undefined
          ? ` "${asVariant}" is a voice variant: put a language before it, as in "it+${asVariant}".`
          : /^mb-/i.test(language)
            ? ' MBROLA voices (mb-…) are not part of this build.'
            : suggestion(closest(language, this.#languageNames()))
      throw unknownVoice(name, `there is no language "${language}".${hint}`)
    }
    if (variant === undefined) return knownLanguage
    const knownVariant = this.#variants.get(variant.toLowerCase())
    if (knownVariant === undefined) {
      throw unknownVoice(
        name,
        `there is no voice variant "${variant}".${suggestion(closest(variant, this.#variants.values()))}`,
      )
    }
    return `${knownLanguage}+${knownVariant}`
  }

  #languageNames(): string[] {
    return [...new Set(this.#languages.values())].map((path) => path.slice(path.lastIndexOf('/') + 1))
  }
}

function suggestion(name: string | undefined): string {
  return name === undefined ? '' : ` Did you mean "${name}"?`
}

// espeak-ng's ENS_VOICE_NOT_FOUND, the status its own lookup would have failed with.
const voiceNotFound = 0x100006ff

function unknownVoice(name: string, problem: string): EspeakNgError {
  return new EspeakNgError(
    'unknown-voice',
    `espeak-ng has no voice "${name}": ${problem} Pick one espeak-ng knows: a language such as "it" ` +
      'or "en-us", optionally with a variant such as "it+Marco".',
    { status: voiceNotFound },
  )
}

function* files(directory: string): Generator<string> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(directory, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) yield* files(path)
    else yield path
  }
}
