/** Returns `text` with every secret the bot knows of replaced by `***`. */
export type Redact = (text: string) => string

// Shorter secrets would turn every log line into stars if replaced wherever they occur; they are
// still hidden where they usually show up, in a URL's credentials.
const MIN_LITERAL_LENGTH = 4
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)[^\s/?#@]*@/gi

/** The secrets in the bot's settings: the Telegram token and any password in the Redis URL. */
export function secretsOf(config: {
  telegramToken?: string | undefined
  redisUrl?: string | undefined
}): string[] {
  const secrets: string[] = []
  if (config.telegramToken !== undefined) secrets.push(config.telegramToken)
  if (config.redisUrl !== undefined) {
    try {
      const password = new URL(config.redisUrl).password
      if (password !== '') secrets.push(password, safeDecode(password))
    } catch {
      // An unparsable URL has no password to find; the URL pattern below still applies.
    }
  }
  return secrets
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * One redaction for every line the bot prints: each secret, as given and as it appears inside a
 * URL (the Bot API puts the token in the path: `…/bot<token>/getMe`), then any URL's password.
 */
export function redactor(secrets: readonly string[]): Redact {
  const forms = new Set<string>()
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret), encodeURI(secret)]) {
      if (form.length >= MIN_LITERAL_LENGTH) forms.add(form)
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length)
  return (text) => {
    let out = text
    for (const form of ordered) out = out.split(form).join('***')
    return out.replace(URL_PASSWORD, '$1***@')
  }
}
