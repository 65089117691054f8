import { describe, expect, it } from 'vitest'
import type { Message } from '../src/index.js'
import { assignLegacyIds } from '../src/message-id.js'

describe('assignLegacyIds', () => {
  // These ids are seen by callers (history(), the integrations) before any is stored, and every
  // open must derive the same ones: the hash behind them can never change. Fixed values, so a
  // change to it (a faster rewrite, say) cannot pass unnoticed.
  it('derives the same ids as it always has', () => {
    const list = [
      { role: 'user', content: 'Ciao, come stai?', timestamp: '2025-01-01T10:00:00.000000' },
      { role: 'assistant', content: 'Bene! '.repeat(30), timestamp: '2025-01-01T10:00:01.000000' },
      { role: 'user', content: 'Ciao, come stai?', timestamp: '2025-01-01T10:00:00.000000' },
      { role: 'user', content: 'già stored', timestamp: '2025-01-01T10:00:02Z', id: 'kept' },
      { role: 'user', content: '', timestamp: '2025-01-01T10:00:03Z' },
    ] as Message[]
    expect(assignLegacyIds(list)).toBe(4)
    expect(list.map((message) => message.id)).toEqual([
      'legacy-94e4d9c99dd032c4',
      'legacy-36461fdd97da44a8',
      // The same role, timestamp and content again: the same digest, ranked.
      'legacy-94e4d9c99dd032c4-1',
      'kept',
      'legacy-f14a9db44fa14f08',
    ])
  })

  it('never gives an id the list already holds, and leaves the messages it was given untouched', () => {
    const first = { role: 'user', content: 'x', timestamp: '2025-01-01T10:00:00Z' }
    const list = [first, { ...first, id: 'legacy-placeholder' }] as Message[]
    assignLegacyIds(list)
    const derived = list[0]?.id as string
    const again = [{ ...first }, { ...first, id: derived }] as Message[]
    assignLegacyIds(again)
    expect(again[0]?.id).toBe(`${derived}-1`)
    expect(first).not.toHaveProperty('id')
  })

  it('gives the same ids in place, to messages the caller owns', () => {
    const make = () =>
      [
        { role: 'user', content: 'Ciao, come stai?', timestamp: '2025-01-01T10:00:00.000000' },
        { role: 'user', content: 'Ciao, come stai?', timestamp: '2025-01-01T10:00:00.000000' },
        { role: 'user', content: 'x', timestamp: '2025-01-01T10:00:02Z', id: '' },
      ] as Message[]
    const copied = make()
    assignLegacyIds(copied)
    const owned = make()
    const objects = [...owned]
    expect(assignLegacyIds(owned, { inPlace: true })).toBe(3)
    expect(owned).toEqual(copied)
    expect(owned.every((message, i) => message === objects[i])).toBe(true)
    // Key order as in the copy: an id the message had (empty here) keeps its place.
    expect(owned.map((message) => Object.keys(message))).toEqual(
      copied.map((message) => Object.keys(message)),
    )
  })
})
