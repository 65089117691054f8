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
 * an earlier attempt whose reply was lost, and is skipped, so retries never duplicate. Within a
 * conversation the numbers ascend, so the skipped messages are a prefix, and the common case
 * (nothing to skip) pushes the JSON arguments as they are.
 *
 * KEYS, per group: index, stamps, writer, then one list per conversation.
 * ARGV: maxMessages, writer TTL ms, then per group: conversation count, and per conversation:
 * id, message count, score, timestamp, first sequence, last sequence, all sequences joined by
 * commas, then the messages as JSON.
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
  local scores, times = {}, {}
  for _ = 1, conversations do
    local list = KEYS[k]
    k = k + 1
    local id, count, score, stamp = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3]
    local first, last, seqs = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), ARGV[a + 6]
    a = a + 7
    local skip = 0
    if first <= seen then
      for seq in string.gmatch(seqs, '%d+') do
        if tonumber(seq) > seen then break end
        skip = skip + 1
      end
    end
    if skip < count then
      local stop = a + count - 1
      for i = a + skip, stop, 1000 do
        redis.call('RPUSH', list, unpack(ARGV, i, math.min(i + 999, stop)))
      end
      redis.call('LTRIM', list, -max, -1)
      scores[#scores + 1] = score
      scores[#scores + 1] = id
      times[#times + 1] = id
      times[#times + 1] = stamp
      appended = appended + count - skip
      if last > top then top = last end
    end
    a = a + count
  end
  for i = 1, #scores, 1000 do
    redis.call('ZADD', index, unpack(scores, i, math.min(i + 999, #scores)))
    redis.call('HSET', stamps, unpack(times, i, math.min(i + 999, #times)))
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
