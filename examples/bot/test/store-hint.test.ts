import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { otherStoreHint } from '../src/store-hint.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function dirWith(...files: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'taurobot-bot-hint-'))
  dirs.push(dir)
  for (const file of files) await writeFile(join(dir, file), '')
  return dir
}

describe('otherStoreHint', () => {
  it('names the migrate command when the chosen store is new and the other format has a file', async () => {
    const dir = await dirWith('conversations.json')
    expect(otherStoreHint(dir, 'sqlite')).toBe(
      `memory: starting a new ${join(dir, 'conversations.db')}, but ${join(dir, 'conversations.json')} beside it holds conversations; ` +
        `to move them over, stop the bot and run: npx @taurobot/memory migrate ${join(dir, 'conversations.json')} ${join(dir, 'conversations.db')}`,
    )
    const back = await dirWith('conversations.db')
    expect(otherStoreHint(back, 'json')).toMatch(/migrate .*conversations\.db .*conversations\.json$/)
    // A JSON store that is only its journal so far counts as there.
    expect(otherStoreHint(await dirWith('conversations.json.journal'), 'sqlite')).toMatch(/migrate/)
  })

  it('says nothing when the chosen store exists or there is nothing to move', async () => {
    expect(otherStoreHint(await dirWith(), 'sqlite')).toBeUndefined()
    expect(otherStoreHint(await dirWith('conversations.json', 'conversations.db'), 'sqlite')).toBeUndefined()
    expect(otherStoreHint(await dirWith('conversations.json'), 'json')).toBeUndefined()
    expect(
      otherStoreHint(await dirWith('conversations.json.journal', 'conversations.db'), 'json'),
    ).toBeUndefined()
  })
})
