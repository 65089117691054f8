/**
 * The Lua that applies upserts and removes to a conversation's list, a fragment of the append
 * script (scripts.ts) that defines `applyOperations(change, max)`.
 *
 * A message is found by its id without decoding the list: the store writes every message with
 * `JSON.stringify`, so the message with id `x` holds the bytes `"id":` followed by
 * `JSON.stringify(x)` (the needle, sent by the backend) as a key of its own object. Inside a JSON
 * string every `"` is escaped, so the needle can only occur as a key: of the message itself, or
 * of an object nested in one of its fields, which `atTopLevel` tells apart by counting brackets
 * outside strings. A message written in another JSON form by something else is not found.
 *
 * The list is read from its newest end in windows of 8, 32, 128... items (`LRANGE`), each item
 * searched for the needle in C (`string.find`, plain). The message a bot edits or removes is
 * usually among the newest (a streamed reply), so that costs one window of 8; an id the list does
 * not hold (an upsert that appends) reads the whole list, at most `maxMessages` items, inside the
 * script. A remove of any but the newest item sets it to a marker and removes that with
 * `LREM key -1`, which scans from the newest end as far as the item.
 *
 * The index (newest message's epoch ms) and the stamps (its timestamp as written) change only
 * when the newest message does: a pushed or replaced newest message brings its own, sent by the
 * backend; when the newest was removed, the new newest message's timestamp is read from its JSON
 * and turned into epoch ms here (`epochMs`), for the forms `Date.parse` reads the same in every
 * time zone. For another form (a local time, such as `2026-01-01T10:00`) the index keeps the
 * removed message's time, so `prune` may keep that conversation until then.
 */
export const OPERATIONS_LUA = `
local REMOVED = string.char(0) .. 'removed'
local IN_STRING = '["' .. string.char(92) .. ']'
local OUTSIDE = '["{}%[%]]'

-- A command whose error is raised as the error reply itself, so the caller's pcall receives it.
local function call(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then error(reply) end
  return reply
end

-- True when the key starting at byte 'at' of an item's JSON is a key of the item's own object.
local function atTopLevel(json, at)
  local depth, from = 0, 1
  while true do
    local q = string.find(json, OUTSIDE, from)
    if q == nil or q > at then return false end
    if q == at then return depth == 1 end
    local c = string.byte(json, q)
    if c == 34 then
      local e = q
      repeat
        e = string.find(json, IN_STRING, e + 1)
        if e == nil then return false end
        local escaped = string.byte(json, e) == 92
        if escaped then e = e + 1 end
      until not escaped
      from = e + 1
    else
      if c == 123 or c == 91 then depth = depth + 1 else depth = depth - 1 end
      from = q + 1
    end
  end
end

-- The index, counted from the end (-1 is the newest), of the item whose own id is the needle's.
local function find(list, needle)
  local from, size = 0, 8
  while true do
    local items = call('LRANGE', list, -(from + size), -(from + 1))
    for i = #items, 1, -1 do
      local item = items[i]
      local at = string.find(item, needle, 1, true)
      while at do
        if atTopLevel(item, at) then return i - #items - from - 1 end
        at = string.find(item, needle, at + 1, true)
      end
    end
    if #items < size then return nil end
    from = from + size
    size = size * 4
  end
end

local function daysFromCivil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end

-- Epoch ms of an ISO 8601 date (UTC) or date and time with Z or an offset; nil for other forms.
local function epochMs(stamp)
  local y, mo, d, rest = string.match(stamp, '^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$')
  if not y then return nil end
  local h, mi, s, ms, zone = 0, 0, 0, 0, 'Z'
  if rest ~= '' then
    local hh, mm, tail = string.match(rest, '^T(%d%d):(%d%d)(.*)$')
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, afterSeconds = string.match(tail, '^:(%d%d)(.*)$')
    if ss then
      s, tail = tonumber(ss), afterSeconds
      local fraction, afterFraction = string.match(tail, '^%.(%d+)(.*)$')
      if fraction then
        ms, tail = tonumber(string.sub(fraction .. '00', 1, 3)), afterFraction
      end
    end
    zone = tail
  end
  local offset = 0
  if zone ~= 'Z' then
    local sign, oh, om = string.match(zone, '^([+-])(%d%d):(%d%d)$')
    if not sign then return nil end
    offset = tonumber(oh) * 60 + tonumber(om)
    if sign == '-' then offset = -offset end
  end
  local days = daysFromCivil(tonumber(y), tonumber(mo), tonumber(d))
  return ((days * 24 + h) * 60 + mi - offset) * 60000 + s * 1000 + ms
end

-- Applies ARGV[change.first .. change.stop], 4 per operation: its kind ('a', 'u', 'e' or 'r') followed
-- by the needle of its id, the message as JSON, its epoch ms, its timestamp. Keeps the list to
-- max as each change would alone (trimmed first, then after each message appended, so a later
-- upsert or remove never finds a message history() no longer shows), then records in
-- change.group what the index and stamps need. Returns how many applied.
local function applyOperations(change, max)
  local list, group = change.list, change.group
  -- nil: the newest message is the one it was; false: it was removed; else its {score, stamp}.
  local newest = nil
  if call('LLEN', list) > max then call('LTRIM', list, -max, -1) end
  for i = change.first, change.stop, 4 do
    local kind, json = string.sub(ARGV[i], 1, 1), ARGV[i + 1]
    local at = nil
    if kind ~= 'a' then at = find(list, string.sub(ARGV[i], 2)) end
    if kind == 'r' then
      if at == -1 then
        call('RPOP', list)
        newest = false
      elseif at then
        call('LSET', list, at, REMOVED)
        call('LREM', list, -1, REMOVED)
      end
    elseif at then
      call('LSET', list, at, json)
      if at == -1 then newest = { ARGV[i + 2], ARGV[i + 3] } end
    elseif kind ~= 'e' then
      if call('RPUSH', list, json) > max then call('LTRIM', list, -max, -1) end
      newest = { ARGV[i + 2], ARGV[i + 3] }
    end
  end
  local length = call('LLEN', list)
  if length == 0 then
    group.gone[#group.gone + 1] = change.id
  elseif newest then
    group.scores[#group.scores + 1] = newest[1]
    group.scores[#group.scores + 1] = change.id
    group.times[#group.times + 1] = change.id
    group.times[#group.times + 1] = newest[2]
  elseif newest == false then
    local ok, message = pcall(cjson.decode, call('LINDEX', list, -1))
    local stamp = ok and type(message) == 'table' and message.timestamp
    if type(stamp) == 'string' then
      local ms = epochMs(stamp)
      if ms then
        group.scores[#group.scores + 1] = string.format('%.0f', ms)
        group.scores[#group.scores + 1] = change.id
      end
      group.times[#group.times + 1] = change.id
      group.times[#group.times + 1] = stamp
    end
  end
  return (change.stop - change.first + 1) / 4
end
`
