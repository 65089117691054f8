import { describe, expect, it } from 'vitest'
import { toMessage } from '../src/message.js'
import { randomId } from '../src/uuid.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('randomId', () => {
  it('gives version 4 UUIDs in the form crypto.randomUUID() gives, all different', () => {
    // Several refills of the pool of random bytes (1024 ids each).
    const ids = Array.from({ length: 5000 }, () => randomId())
    for (const id of ids) expect(id).toMatch(UUID_V4)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('uses every hex digit in the random positions (no byte is lost to the formatting)', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 500; i++) for (const c of randomId().replaceAll('-', '').slice(13)) seen.add(c)
    expect([...seen].sort().join('')).toBe('0123456789abcdef')
  })

  it('is the id add() gives a message without one', () => {
    const { message } = toMessage({ role: 'user', content: 'hi' }, 1000, () => '2026-01-01T00:00:00.000Z')
    expect(message.id).toMatch(UUID_V4)
  })
})
