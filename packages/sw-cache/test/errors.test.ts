import { describe, expect, it } from 'vitest'
import { isSwCacheError, SwCacheError } from '../src/index.js'

describe('SwCacheError', () => {
  it('prefixes the package name, keeps code, details and cause', () => {
    const cause = new Error('underlying')
    const error = new SwCacheError('precache-failed', 'something broke. Do this.', {
      cause,
      details: { n: 1 },
    })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('SwCacheError')
    expect(error.message).toBe('[@taurobot/sw-cache] something broke. Do this.')
    expect(error.cause).toBe(cause)
    expect(error.details).toEqual({ n: 1 })
    expect(isSwCacheError(error)).toBe(true)
    expect(isSwCacheError(error, error.code)).toBe(true)
    expect(isSwCacheError(new Error('x'))).toBe(false)
  })

  it('has no cause property unless one is given', () => {
    const error = new SwCacheError('quota-exceeded', 'x')
    expect('cause' in error).toBe(false)
    expect(error.details).toEqual({})
  })
})
