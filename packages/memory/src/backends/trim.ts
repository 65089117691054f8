/**
 * Removes the `count` oldest items of `list` in place. One shift() per item: V8 then moves the
 * start of the array's storage instead of copying what follows (while the storage is below its
 * large-object size, about 16,000 items), so keeping a full conversation at maxMessages costs the
 * same at 1000 messages as at 10, where splice(0, n) copies the whole list every time. Past a few
 * items, one splice is cheaper than many shifts.
 */
export function dropOldest<T>(list: T[], count: number): void {
  if (count <= 0) return
  if (count > 16) {
    list.splice(0, count)
    return
  }
  for (let i = 0; i < count; i++) list.shift()
}
