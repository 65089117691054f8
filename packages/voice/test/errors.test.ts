import { describe, expect, it } from 'vitest'
import { isVoiceError, VoiceError } from '../src/index.js'

describe('VoiceError', () => {
  it('prefixes the package name, keeps code, details and cause', () => {
    const cause = new Error('underlying')
    const error = new VoiceError('timeout', 'something broke. Do this.', { cause, details: { n: 1 } })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('VoiceError')
    expect(error.message).toBe('[@taurobot/voice] something broke. Do this.')
    expect(error.cause).toBe(cause)
    expect(error.details).toEqual({ n: 1 })
    expect(isVoiceError(error)).toBe(true)
    expect(isVoiceError(error, error.code)).toBe(true)
    expect(isVoiceError(new Error('x'))).toBe(false)
  })

  it('has no cause property unless one is given', () => {
    const error = new VoiceError('pool-closed', 'x')
    expect('cause' in error).toBe(false)
    expect(error.details).toEqual({})
  })
})
