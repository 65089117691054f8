import { describe, expect, it } from 'vitest'
import { redactor, secretsOf } from '../src/redact.js'

describe('redactor', () => {
  const token = '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ'

  it('hides the token, as given and as a URL carries it', () => {
    const redact = redactor(secretsOf({ telegramToken: token }))
    expect(redact(`request to https://api.telegram.org/bot${token}/getMe failed`)).toBe(
      'request to https://api.telegram.org/bot***/getMe failed',
    )
    expect(redact(`token=${encodeURIComponent(token)}`)).toBe('token=***')
  })

  it('hides the Redis password, encoded or not, and any password in a URL', () => {
    const redact = redactor(secretsOf({ redisUrl: 'redis://bot:p%40ss-w0rd@127.0.0.1:6379/0' }))
    expect(redact('AUTH p@ss-w0rd failed')).toBe('AUTH *** failed')
    expect(redact('cannot reach redis://bot:p%40ss-w0rd@127.0.0.1:6379/0')).toBe(
      'cannot reach redis://bot:***@127.0.0.1:6379/0',
    )
    expect(redact('see https://someone:other@example.com/x')).toBe('see https://someone:***@example.com/x')
  })

  it('leaves other text alone, ports and times included', () => {
    const redact = redactor(secretsOf({ telegramToken: token, redisUrl: 'redis://:ab@host:6379' }))
    const line = 'TauroBot is running. Open http://127.0.0.1:3000/ at 12:30 (about 1 ab)'
    // "ab" is too short to replace everywhere; it is still hidden inside a URL.
    expect(redact(line)).toBe(line)
    expect(redact('redis://:ab@host:6379')).toBe('redis://:***@host:6379')
  })
})
