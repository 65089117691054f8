// An in-memory CacheStorage for Node unit tests, following the Cache API's matching rules (URL
// without fragment, GET only, Vary checked against the stored request, insertion order kept,
// put replaces what it matches). The one fault it adds on purpose, QuotaExceededError, cannot be
// caused on demand in a real browser.

interface Entry {
  request: Request
  body: ArrayBuffer
  init: ResponseInit
}

const bare = (url: string) => url.split('#')[0]

function matches(entry: Entry, request: Request, ignoreVary = false): boolean {
  if (bare(entry.request.url) !== bare(request.url)) return false
  if (ignoreVary) return true
  const vary = new Headers(entry.init.headers).get('vary')
  return (vary ?? '').split(',').every((raw) => {
    const name = raw.trim()
    return !name || (name !== '*' && entry.request.headers.get(name) === request.headers.get(name))
  })
}

const toRequest = (input: RequestInfo | URL) => (input instanceof Request ? input : new Request(input))

export class MemoryCache implements Cache {
  readonly entries: Entry[] = []
  /** Number of upcoming put() calls that fail with QuotaExceededError. */
  quotaFailures = 0
  puts = 0

  async match(input: RequestInfo | URL, options?: CacheQueryOptions): Promise<Response | undefined> {
    return (await this.matchAll(input, options))[0]
  }

  async matchAll(input?: RequestInfo | URL, options?: CacheQueryOptions): Promise<readonly Response[]> {
    const request = input === undefined ? undefined : toRequest(input)
    if (request && request.method !== 'GET' && !options?.ignoreMethod) return []
    return this.entries
      .filter((entry) => !request || matches(entry, request, options?.ignoreVary))
      .map((entry) => new Response(entry.body.slice(0), entry.init))
  }

  async add(input: RequestInfo | URL): Promise<void> {
    await this.addAll([input])
  }

  async addAll(inputs: Iterable<RequestInfo | URL>): Promise<void> {
    const requests = [...inputs].map(toRequest)
    const responses = await Promise.all(requests.map((request) => fetch(request)))
    if (responses.some((response) => !response.ok)) throw new TypeError('addAll: a response is not ok')
    await Promise.all(requests.map((request, i) => this.put(request, responses[i] as Response)))
  }

  async put(input: RequestInfo | URL, response: Response): Promise<void> {
    const request = toRequest(input)
    if (request.method !== 'GET') throw new TypeError('put: only GET requests can be cached')
    if (response.status === 206) throw new TypeError('put: partial responses cannot be cached')
    if (response.headers.get('vary')?.includes('*')) throw new TypeError('put: Vary * cannot be cached')
    if (response.bodyUsed) throw new TypeError('put: body already used')
    const body = await response.arrayBuffer()
    this.puts++
    if (this.quotaFailures > 0) {
      this.quotaFailures--
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    }
    const init = {
      status: response.status,
      statusText: response.statusText,
      headers: new Headers(response.headers),
    }
    const stored = new Request(request.url, { headers: request.headers })
    for (let i = this.entries.length - 1; i >= 0; i--)
      if (matches(this.entries[i] as Entry, stored)) this.entries.splice(i, 1)
    this.entries.push({ request: stored, body, init })
  }

  async delete(input: RequestInfo | URL, options?: CacheQueryOptions): Promise<boolean> {
    const request = toRequest(input)
    const before = this.entries.length
    for (let i = before - 1; i >= 0; i--)
      if (matches(this.entries[i] as Entry, request, options?.ignoreVary)) this.entries.splice(i, 1)
    return this.entries.length !== before
  }

  async keys(input?: RequestInfo | URL, options?: CacheQueryOptions): Promise<readonly Request[]> {
    const request = input === undefined ? undefined : toRequest(input)
    return this.entries
      .filter((entry) => !request || matches(entry, request, options?.ignoreVary))
      .map((entry) => entry.request)
  }
}

export class MemoryCacheStorage implements CacheStorage {
  readonly caches = new Map<string, MemoryCache>()

  async open(name: string): Promise<MemoryCache> {
    const cache = this.caches.get(name) ?? new MemoryCache()
    this.caches.set(name, cache)
    return cache
  }

  async has(name: string): Promise<boolean> {
    return this.caches.has(name)
  }

  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name)
  }

  async keys(): Promise<string[]> {
    return [...this.caches.keys()]
  }

  async match(input: RequestInfo | URL, options?: MultiCacheQueryOptions): Promise<Response | undefined> {
    for (const [name, cache] of this.caches) {
      if (options?.cacheName !== undefined && options.cacheName !== name) continue
      const response = await cache.match(input, options)
      if (response) return response
    }
    return undefined
  }
}

/** Installs a fresh MemoryCacheStorage as the global `caches` and returns it. */
export function installCaches(): MemoryCacheStorage {
  const storage = new MemoryCacheStorage()
  Object.defineProperty(globalThis, 'caches', { value: storage, configurable: true, writable: true })
  return storage
}
