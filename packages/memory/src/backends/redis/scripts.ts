import { createHash } from 'node:crypto'
import { OPERATIONS_LUA } from './operations-lua.js'

/** A Lua script with its SHA-1, sent with EVALSHA and re-sent in full after NOSCRIPT. */
export interface RedisScript {
  readonly body: string
  readonly sha: string
}

function script(body: string): RedisScript {
  return { body, sha: createHash('sha1').update(body).digest('hex') }
}

/**
 * Writes a batch, one group per bucket: appends, and the upserts and removes of OPERATIONS_LUA
 * (operations-lua.ts). Each message or operation carries the writer's sequence number; one at or
 * below the number already recorded for this writer in this bucket was applied by an earlier
 * attempt whose reply was lost, and is skipped, so retries never duplicate. Only changes sent
 * before (by an attempt that failed) can have been applied: their sequence numbers are sent, and
 * the writer's record is read only then. Within a conversation they come first and ascend, so the
 * skipped changes are a prefix; the common case (a first attempt) pushes the JSON arguments as
 * they are.
 *
 * A key of another type under the prefix (something else wrote there) fails only what it holds:
 * a conversation whose list is not a list, or every conversation of a bucket whose index, stamps
 * or writer key is of another type (checked with TYPE before anything of the bucket is written).
 * Those conversations are skipped and returned, and everything else is written.
 *
 * A script is not rolled back when a command fails, so the pushes come first: if one fails for
 * another reason the lists already pushed are cut back and the error is returned, and nothing of
 * the batch stays. The operations come next, once every list they touch is known to be a list:
 * Redis refuses a script's write for memory (OOM) only before its first write, so from then on
 * nothing of theirs can fail; if their first write is refused, the pushes are cut back as well.
 * Only then are lists trimmed to maxMessages (when they outgrew it) and the indexes and writer
 * records updated.
 *
 * KEYS, per group: index, stamps, writer, then one list per conversation.
 * ARGV: maxMessages, writer TTL ms, then per group: conversation count, the group's highest
 * sequence number, and per conversation: id, kind ('a' for messages to append, 'o' for
 * operations), item count, score, timestamp (of the last message; '' for operations), the
 * sequence numbers of the items sent before joined by commas ('' for none), then the items: one
 * argument per message (its JSON), four per operation (see OPERATIONS_LUA).
 * Returns the number of messages and operations applied, then per conversation not written: its
 * id, the key at fault, that key's type and the type it should have.
 */
export const APPEND = script(`${OPERATIONS_LUA}
local max = tonumber(ARGV[1])
local a = 3
local k = 1
local groups = {}
local pushed = {}
local changes = {}
local result = { 0 }
local function foreign(key, wanted)
  local found = redis.call('TYPE', key)
  if type(found) == 'table' then found = found.ok end
  if found == wanted or found == 'none' then return nil end
  return found
end
local function undoPushes()
  for _, done in ipairs(pushed) do
    if done.count > 0 then redis.call('LTRIM', done.list, 0, -done.count - 1) end
  end
end
while a <= #ARGV do
  local group = { index = KEYS[k], stamps = KEYS[k + 1], writer = KEYS[k + 2], top = tonumber(ARGV[a + 1]), scores = {}, times = {}, gone = {} }
  k = k + 3
  local conversations = tonumber(ARGV[a])
  a = a + 2
  local badKey, badType, wanted = group.index, foreign(group.index, 'zset'), 'zset'
  if not badType then badKey, badType, wanted = group.stamps, foreign(group.stamps, 'hash'), 'hash' end
  if not badType then badKey, badType, wanted = group.writer, foreign(group.writer, 'string'), 'string' end
  if not badType then groups[#groups + 1] = group end
  for _ = 1, conversations do
    local list = KEYS[k]
    k = k + 1
    local id, kind, count, score, stamp, resent = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
    local width = 1
    if kind == 'o' then width = 4 end
    a = a + 6
    local skip = 0
    if resent ~= '' and not badType then
      if group.seen == nil then group.seen = tonumber(redis.call('GET', group.writer) or '0') end
      for seq in string.gmatch(resent, '%d+') do
        if tonumber(seq) > group.seen then break end
        skip = skip + 1
      end
    end
    local wrongType = false
    if badType then
      result[#result + 1] = id
      result[#result + 1] = badKey
      result[#result + 1] = badType
      result[#result + 1] = wanted
    elseif skip < count and kind == 'o' then
      -- Only read here: the operations are applied once every push is done (see above).
      local reply = redis.pcall('LLEN', list)
      if type(reply) == 'table' and reply.err then
        if string.sub(reply.err, 1, 9) ~= 'WRONGTYPE' then
          undoPushes()
          return redis.error_reply(reply.err)
        end
        wrongType = true
      else
        changes[#changes + 1] = { list = list, id = id, group = group, first = a + skip * 4, stop = a + count * 4 - 1 }
      end
    elseif skip < count then
      local stop = a + count - 1
      local entry = { list = list, count = 0, length = 0 }
      for i = a + skip, stop, 1000 do
        local last = math.min(i + 999, stop)
        local reply = redis.pcall('RPUSH', list, unpack(ARGV, i, last))
        if type(reply) == 'table' and reply.err then
          -- A push that fails on the list's type changes nothing: only this conversation fails.
          if entry.count == 0 and string.sub(reply.err, 1, 9) == 'WRONGTYPE' then
            wrongType = true
            break
          end
          undoPushes()
          return redis.error_reply(reply.err)
        end
        if entry.count == 0 then pushed[#pushed + 1] = entry end
        entry.count = entry.count + last - i + 1
        entry.length = reply
      end
      if not wrongType then
        group.scores[#group.scores + 1] = score
        group.scores[#group.scores + 1] = id
        group.times[#group.times + 1] = id
        group.times[#group.times + 1] = stamp
        result[1] = result[1] + count - skip
      end
    end
    if wrongType then
      result[#result + 1] = id
      result[#result + 1] = list
      result[#result + 1] = foreign(list, 'list') or 'unknown'
      result[#result + 1] = 'list'
    end
    a = a + count * width
  end
end
for _, change in ipairs(changes) do
  local ok, applied = pcall(applyOperations, change, max)
  if not ok then
    undoPushes()
    if type(applied) == 'table' and applied.err then return redis.error_reply(applied.err) end
    return redis.error_reply(tostring(applied))
  end
  result[1] = result[1] + applied
end
for _, done in ipairs(pushed) do
  if done.length > max then redis.call('LTRIM', done.list, -max, -1) end
end
for _, group in ipairs(groups) do
  local scores, times = group.scores, group.times
  for i = 1, #scores, 1000 do
    redis.call('ZADD', group.index, unpack(scores, i, math.min(i + 999, #scores)))
  end
  for i = 1, #times, 1000 do
    redis.call('HSET', group.stamps, unpack(times, i, math.min(i + 999, #times)))
  end
  for i = 1, #group.gone, 1000 do
    local gone = { unpack(group.gone, i, math.min(i + 999, #group.gone)) }
    redis.call('ZREM', group.index, unpack(gone))
    redis.call('HDEL', group.stamps, unpack(gone))
  end
  if group.seen == nil or group.top > group.seen then
    redis.call('SET', group.writer, string.format('%d', group.top), 'PX', ARGV[2])
  end
end
return result
`)

/** Deletes one conversation and its index entries. KEYS: index, stamps, list. ARGV: id. */
/**
 * Raises the largest `maxMessages` recorded under the prefix to ARGV[1], never lowering it, and
 * returns the value it held before: nil when none was recorded (a store of an earlier version).
 * KEYS: the limit key.
 */
export const RAISE_LIMIT = script(`
local before = redis.call('GET', KEYS[1])
local recorded = tonumber(before)
if not recorded or tonumber(ARGV[1]) > recorded then redis.call('SET', KEYS[1], ARGV[1]) end
return before
`)

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
