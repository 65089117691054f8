import { describe, expect, it } from 'vitest'
import { isMemoryError, MemoryError } from '../src/index.js'

describe('MemoryError', () => {
  it('prefixes the package name, keeps code, details and cause', () => {
    const cause = new Error('underlying')
    const error = new MemoryError('io', 'something broke. Do this.', { cause, details: { n: 1 } })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('MemoryError')
    expect(error.message).toBe('[@taurobot/memory] something broke. Do this.')
    expect(error.cause).toBe(cause)
    expect(error.details).toEqual({ n: 1 })
    expect(isMemoryError(error)).toBe(true)
    expect(isMemoryError(error, error.code)).toBe(true)
    expect(isMemoryError(new Error('x'))).toBe(false)
  })

  it('has no cause property unless one is given', () => {
    const error = new MemoryError('closed', 'x')
    expect('cause' in error).toBe(false)
    expect(error.details).toEqual({})
  })
})
