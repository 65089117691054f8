import { createHash } from 'node:crypto'

/** A Lua script with its SHA-1, sent with EVALSHA and re-sent in full after NOSCRIPT. */
export interface RedisScript {
  readonly body: string
  readonly sha: string
}

function script(body: string): RedisScript {
  return { body, sha: createHash('sha1').update(body).digest('hex') }
}

/**
 * Appends a batch, one group per bucket. Each message carries the writer's sequence number; a
 * message at or below the number already recorded for this writer in this bucket was applied by
 * an earlier attempt whose reply was lost, and is skipped, so retries never duplicate.
 *
 * KEYS, per group: index, stamps, writer, then one list per conversation.
 * ARGV: maxMessages, writer TTL ms, then per group: conversation count, and per conversation:
 * id, message count, score, timestamp, then (sequence, JSON) per message.
 */
export const APPEND = script(`
local max = tonumber(ARGV[1])
local ttl = ARGV[2]
local a = 3
local k = 1
local appended = 0
while a <= #ARGV do
  local index, stamps, writer = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  k = k + 3
  local conversations = tonumber(ARGV[a])
  a = a + 1
  local seen = tonumber(redis.call('GET', writer) or '0')
  local top = seen
  for _ = 1, conversations do
    local list = KEYS[k]
    k = k + 1
    local id, count, score, stamp = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3]
    a = a + 4
    local values = {}
    for _ = 1, count do
      local seq = tonumber(ARGV[a])
      if seq > seen then
        values[#values + 1] = ARGV[a + 1]
        if seq > top then top = seq end
      end
      a = a + 2
    end
    if #values > 0 then
      for i = 1, #values, 1000 do
        redis.call('RPUSH', list, unpack(values, i, math.min(i + 999, #values)))
      end
      redis.call('LTRIM', list, -max, -1)
      redis.call('ZADD', index, score, id)
      redis.call('HSET', stamps, id, stamp)
      appended = appended + #values
    end
  end
  if top > seen then redis.call('SET', writer, string.format('%d', top), 'PX', ttl) end
end
return appended
`)

/** Deletes one conversation and its index entries. KEYS: index, stamps, list. ARGV: id. */
export const CLEAR = script(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[3])
`)

/**
 * Deletes the listed conversations of one bucket whose newest message is still older than the
 * cutoff (another process may have written to them since they were listed) and returns their ids.
 * KEYS: index, stamps, then one list per id. ARGV: cutoff, then the ids.
 */
export const PRUNE = script(`
local cutoff = tonumber(ARGV[1])
local removed = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) < cutoff then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    if redis.call('DEL', KEYS[i + 1]) > 0 then removed[#removed + 1] = id end
  end
end
return removed
`)
