// What to say when open cannot get a working connection. ioredis reports a connection that never
// came up in its own words ("Stream isn't writeable and enableOfflineQueue options is false",
// "Connection is closed.", "connect ETIMEDOUT"), which say nothing of the address or what to check.
import type { Redis } from 'ioredis'
import { MemoryError } from '../../errors.js'
import { redactText } from '../../redact.js'
import { errorText, safeCause } from './redis-errors.js'
import type { RedisClient } from './redis-options.js'

/** Open's own limit on connecting (connectTimeoutMs) ran out. */
export class ConnectTimeout extends Error {
  override readonly name = 'ConnectTimeout'
}

/** `host:port` of a standalone client, `undefined` for a Cluster (it has several). */
function address(client: RedisClient | undefined): string | undefined {
  if (client === undefined || client.isCluster) return undefined
  const { host, port, path } = (client as Redis).options
  return typeof path === 'string' && path !== '' ? path : `${host}:${port}`
}

/** True when the client speaks TLS: a rediss:// URL, or a given client's `tls` option. */
function usesTls(client: RedisClient | undefined, url: string, owned: boolean): boolean {
  if (owned) return url.startsWith('rediss:')
  if (client === undefined || client.isCluster) return false
  return (client as Redis).options.tls !== undefined
}

function timedOut(error: unknown): boolean {
  return (
    error instanceof ConnectTimeout ||
    (error as { code?: unknown } | null)?.code === 'ETIMEDOUT' ||
    // ioredis' answer to a command sent while it has no connection (enableOfflineQueue is off).
    /Stream isn't writeable/.test(errorText(error))
  )
}

// A failure a TLS handshake with a server that does not speak TLS ends in; not a refused
// connection or an unknown host, which fail the same with or without TLS.
function handshakeUnanswered(error: unknown): boolean {
  return (
    timedOut(error) ||
    /Connection is closed|ECONNRESET|EPROTO|socket disconnected|wrong version number/.test(errorText(error))
  )
}

/**
 * The `backend-unavailable` error for a server open could not talk to. `where` names the server as
 * the other errors do (URL without password), `cause` is the last connection error.
 */
export function unreachable(
  where: string,
  client: RedisClient | undefined,
  url: string,
  owned: boolean,
  cause: unknown,
  timeoutMs: number,
): MemoryError {
  const target = address(client)
  const connection = target === undefined ? 'the connection' : `the connection to ${target}`
  let text: string
  if (timedOut(cause)) {
    text =
      `cannot reach Redis at ${where}: ${connection} did not succeed within connectTimeoutMs (${timeoutMs} ms). ` +
      'Check that the host and port are right, that the server runs and listens there, and that no firewall drops the connection; on a slow network, raise connectTimeoutMs.'
  } else {
    const reason = redactText(errorText(cause)).replace(/\.+$/, '')
    text = `cannot reach Redis at ${where}: ${reason}. Check that the server runs and the address is right.`
  }
  // A plain server does not answer a TLS handshake (or drops it): the timeout or closed
  // connection would otherwise point away from the scheme.
  if (usesTls(client, url, owned) && handshakeUnanswered(cause)) {
    text += owned
      ? ' The URL asks for TLS (rediss://) and the server may not speak TLS: if it is a plain Redis server, use redis:// instead.'
      : ' The client is set up for TLS and the server may not speak TLS: if it is a plain Redis server, leave out the tls option.'
  }
  return new MemoryError('backend-unavailable', text, { cause: safeCause(cause), details: { url: where } })
}
