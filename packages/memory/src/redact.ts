/**
 * Masks secrets in what the store shows (Redis URLs above all): a URL's password, and the query parameters that
 * ioredis reads as options (`?password=...`), so that neither reaches an error or a log line.
 */

// Any URL with a password in it, such as `redis://user:password@host`: group 1 is the part kept.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^/\s]*@/gi
// A query parameter that may hold a secret (`password`, `sentinelPassword`, `token`...).
const SECRET_NAME = /pass|secret|token/i
const SECRET_PARAM = /([?&][^=&#\s]*(?:pass|secret|token)[^=&#\s]*=)[^&#\s]*/gi

/** A Redis URL safe to show: the password and any secret query parameter read `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_NAME.test(name)) parsed.searchParams.set(name, '***')
    }
    return parsed.toString()
  } catch {
    return redactText(url.replace(/\/\/([^@/]*)@/, '//***@'))
  }
}

/** A text with the password and the secret query parameters of every URL in it masked. */
export function redactText(text: string): string {
  return text.replace(URL_PASSWORD, '$1:***@').replace(SECRET_PARAM, '$1***')
}
