// Writes src/speech-text/emoji-names.ts: the short name of every emoji in English and Italian, from
// the Unicode CLDR annotations (the devDependencies cldr-annotations-full and
// cldr-annotations-derived-full). Run it after updating them: `npm run emoji-names` in this package.
//
// What the table holds, and why:
// - One entry per emoji as speechText looks it up: without variation selectors (U+FE0E/FE0F) and
//   skin tones, so "👍🏽" and "👍" share "thumbs up" and the table stays small.
// - CLDR's text-to-speech name ("tts"), made to read well inside a sentence: "flag: Italy" becomes
//   "flag Italy"; the member list of a ZWJ group goes ("family: man, woman, girl" is "family").
// - A few overrides (OVERRIDES) where CLDR names the picture rather than what a reader says.
// - Arrows, ©, ®, ™, ‼, ⁉ and ℹ are left out: speechText reads arrows as a pause and drops the rest,
//   as it does without names.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const output = join(here, '..', 'src', 'speech-text', 'emoji-names.ts')
const LANGUAGES = ['en', 'it']
// Where CLDR names the picture rather than what a reader says: ✅ is "check mark button".
const OVERRIDES = { en: { '✅': 'check mark' }, it: { '✅': 'segno di spunta' } }

const TONES = /[\u{1F3FB}-\u{1F3FF}]/gu
const SELECTORS = /[\uFE0E\uFE0F]/g
const EMOJI_START = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator})/u
const LEFT_OUT =
  /^(?:[\u00A9\u00AE\u203C\u2049\u2122\u2139\u2190-\u21FF\u27A1\u27F0-\u27FF\u2900-\u297F\u2B05-\u2B07])$/u

function annotations(pkg, folder, language) {
  const file = require.resolve(`${pkg}/${folder}/${language}/annotations.json`)
  const json = JSON.parse(readFileSync(file, 'utf8'))
  return json[folder].annotations
}

function version(pkg) {
  return JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version
}

/** The table's key for an emoji: no variation selectors, no skin tones. */
function keyOf(emoji) {
  return emoji.replace(SELECTORS, '').replace(TONES, '')
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The names of one language, by key. */
function namesOf(language) {
  const base = annotations('cldr-annotations-full', 'annotations', language)
  const derived = annotations('cldr-annotations-derived-full', 'annotationsDerived', language)
  // The names of the five skin tones, to take out of names CLDR gives only with tones: after the
  // name's colon, a comma, or "and" / "e" when there are two.
  const toneNames = ['🏻', '🏼', '🏽', '🏾', '🏿'].flatMap((tone) => base[tone]?.tts ?? [])
  const tonesInName =
    toneNames.length === 0
      ? undefined
      : new RegExp(`(?:: |, |,? (?:and|e) )(?:${toneNames.map(escapeRegExp).join('|')})`, 'g')
  const names = new Map()
  const fromToned = new Set()
  for (const [emoji, entry] of [...Object.entries(base), ...Object.entries(derived)]) {
    const name = entry.tts?.[0]
    if (name === undefined || !EMOJI_START.test(emoji)) continue
    const key = keyOf(emoji)
    if (key === '' || LEFT_OUT.test(key)) continue
    const toned = TONES.test(emoji)
    TONES.lastIndex = 0
    // A name given without tones wins; one known only with tones is kept until one comes.
    if (names.has(key) && (toned || !fromToned.has(key))) continue
    let spoken = toned && tonesInName !== undefined ? name.replace(tonesInName, '') : name
    const colon = spoken.indexOf(': ')
    if (colon !== -1) {
      const rest = spoken.slice(colon + 2)
      spoken =
        key.includes('\u200D') && rest.includes(', ')
          ? spoken.slice(0, colon)
          : `${spoken.slice(0, colon)} ${rest}`
    }
    // "keycap: 10" is read as its number, like the keycaps 0 to 9.
    if (key === '\u{1F51F}') spoken = '10'
    spoken = OVERRIDES[language]?.[key] ?? spoken
    names.set(key, spoken.replace(/\s+/g, ' ').trim())
    if (toned) fromToned.add(key)
    else fromToned.delete(key)
  }
  return names
}

const tables = new Map(LANGUAGES.map((language) => [language, namesOf(language)]))
const keys = [...new Set([...tables.values()].flatMap((names) => [...names.keys()]))].sort()
for (const [language, names] of tables) {
  for (const name of names.values()) {
    if (name.includes('|')) throw new Error(`a ${language} name holds the separator "|": ${name}`)
  }
}

const licence = readFileSync(require.resolve('cldr-annotations-full/LICENSE'), 'utf8').trim()
const lines = [
  '/*!',
  ` * Emoji names from the Unicode CLDR annotations (cldr-annotations-full ${version('cldr-annotations-full')},`,
  ` * cldr-annotations-derived-full ${version('cldr-annotations-derived-full')}), reduced by scripts/emoji-names.mjs.`,
  ' * Generated: do not edit by hand. @license Unicode-3.0',
  ' *',
  ...licence.split('\n').map((line) => (line === '' ? ' *' : ` * ${line}`)),
  ' */',
  '',
  '/** Every named emoji, without variation selectors or skin tones, separated by spaces. */',
  `export const EMOJI_KEYS = ${JSON.stringify(keys.join(' '))}`,
  '',
  '/** Per language, the name of each key in `EMOJI_KEYS`, in the same order, separated by `|` (empty: no name). */',
  'export const EMOJI_NAMES: Readonly<Record<string, string>> = {',
  ...LANGUAGES.map((language) => {
    const names = tables.get(language)
    return `  ${language}: ${JSON.stringify(keys.map((key) => names.get(key) ?? '').join('|'))},`
  }),
  '}',
  '',
]
writeFileSync(output, lines.join('\n'))
const biome = spawnSync('npx', ['biome', 'format', '--write', output], { stdio: 'inherit' })
if (biome.status !== 0) throw new Error('biome format failed')
const bytes = Buffer.byteLength(readFileSync(output, 'utf8'))
console.log(`${keys.length} emoji, ${LANGUAGES.join(' and ')}: ${output} (${bytes} bytes)`)
