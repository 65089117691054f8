// What the bot itself measures, in Prometheus' text format at GET /metrics: its HTTP traffic, how
// long replies take, and the service worker's cache counters that open pages report.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import type { ReplyTiming } from './core.js'

/** The service worker counters the page can report (see `countRequests` in @taurobot/sw-cache). */
export const SW_COUNTERS = ['hits', 'misses', 'revalidations', 'coalesced', 'fallbacks', 'errors'] as const
export type SwCounterName = (typeof SW_COUNTERS)[number]

// Label values come from these closed sets only: a client's path, user or text never becomes a
// label, so a scan of random URLs cannot grow the number of series.
const METHODS = new Set(['GET', 'HEAD', 'POST'])
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** The bot's Prometheus registry and the metrics it fills in. */
export class BotMetrics {
  /** Holds every series /metrics shows, the packages' own included once they are registered. */
  readonly registry = new Registry()
  readonly #requests: Counter<'method' | 'route' | 'status'>
  readonly #requestSeconds: Histogram<'route'>
  readonly #replies: Counter<'front_end' | 'responder' | 'outcome'>
  readonly #replySeconds: Histogram<'front_end' | 'responder'>
  readonly #firstChunkSeconds: Histogram<'front_end' | 'responder'>
  readonly #swRequests: Counter<'counter'>
  readonly #swReports: Counter<never>

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry]
    // Process figures (CPU, heap, event loop lag) are what an operator looks at first.
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry })
    this.#requests = new Counter({
      name: 'taurobot_http_requests_total',
      help: 'HTTP requests answered by the web chat, by method, route and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    })
    this.#requestSeconds = new Histogram({
      name: 'taurobot_http_request_duration_seconds',
      help: 'Time from a request to the end of its response, by route.',
      labelNames: ['route'],
      buckets: SECONDS_BUCKETS,
      registers,
    })
    this.#replies = new Counter({
      name: 'taurobot_replies_total',
      help: 'Conversational replies (commands excluded), by front end, responder and outcome.',
      labelNames: ['front_end', 'responder', 'outcome'],
      registers,
    })
    this.#replySeconds = new Histogram({
      name: 'taurobot_reply_duration_seconds',
      help: "Time from a user's message to the reply stored, for replies that succeeded.",
      labelNames: ['front_end', 'responder'],
      buckets: SECONDS_BUCKETS,
      registers,
    })
    this.#firstChunkSeconds = new Histogram({
      name: 'taurobot_reply_first_chunk_seconds',
      help: "Time from a user's message to the first streamed piece of the reply.",
      labelNames: ['front_end', 'responder'],
      buckets: SECONDS_BUCKETS,
      registers,
    })
    this.#swRequests = new Counter({
      name: 'taurobot_sw_cache_requests_total',
      help: "What the pages' service workers did with requests (@taurobot/sw-cache counters), as reported by the pages.",
      labelNames: ['counter'],
      registers,
    })
    this.#swReports = new Counter({
      name: 'taurobot_sw_cache_reports_total',
      help: 'Counter reports received from pages.',
      registers,
    })
  }

  /** Counts one answered request; `route` is a route template, never the raw path. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const label = METHODS.has(method) ? method : 'other'
    this.#requests.inc({ method: label, route, status: String(status) })
    this.#requestSeconds.observe({ route }, seconds)
  }

  /** Counts one conversational reply and how long it took. */
  observeReply(timing: ReplyTiming): void {
    const labels = { front_end: timing.frontEnd, responder: timing.responder }
    this.#replies.inc({ ...labels, outcome: timing.outcome })
    if (timing.outcome !== 'ok') return
    this.#replySeconds.observe(labels, timing.seconds)
    if (timing.firstChunkSeconds !== undefined)
      this.#firstChunkSeconds.observe(labels, timing.firstChunkSeconds)
  }

  /** Adds one page's report of its service worker's counters (already checked by the API). */
  addSwCounters(counts: Readonly<Record<SwCounterName, number>>): void {
    this.#swReports.inc()
    for (const name of SW_COUNTERS)
      if (counts[name] > 0) this.#swRequests.inc({ counter: name }, counts[name])
  }

  /** The totals of the reported service worker counters, for the page's debug view. */
  async swTotals(): Promise<Record<SwCounterName, number>> {
    const totals = Object.fromEntries(SW_COUNTERS.map((name) => [name, 0])) as Record<SwCounterName, number>
    for (const { labels, value } of (await this.#swRequests.get()).values) {
      const name = labels.counter as SwCounterName
      if (name in totals) totals[name] = value
    }
    return totals
  }

  /** The scrape: Prometheus' text format and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
