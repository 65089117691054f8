// Web addresses and e-mail addresses are spoken in a short form: an engine reads
// "https://example.com/guida" letter by letter ("acca ti ti pi esse due punti barra barra ..."),
// while a person says "example.com".

// Trailing punctuation belongs to the sentence, not to the address.
const URL = /\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>()[\]{}`"']+(?:\([^\s()]*\)[^\s<>()[\]{}`"']*)*/gi
// Bounded as RFC 5321 bounds them, which also keeps a long run of letters from costing n².
const EMAIL = /\b(?:mailto:)?([\p{L}\p{N}._%+-]{1,64})@((?:[\p{L}\p{N}-]{1,63}\.){1,8}\p{L}{2,24})\b/giu
const TRAILING = /[.,;:!?]+$/

/** The host of a web address, without scheme, user, port, `www.` or path: `example.com`. */
export function shortUrl(url: string): string {
  const rest = url.replace(/^[a-z]+:\/\//i, '')
  const authority = rest.split(/[/?#]/, 1)[0] ?? rest
  const host = authority.replace(/^[^@]*@/, '').replace(/:\d+$/, '')
  return host.replace(/^www\./i, '')
}

/** An e-mail address as read aloud: `mario rossi at example.com`. */
function spokenEmail(local: string, host: string, at: string): string {
  return `${local.replace(/[._%+-]+/g, ' ').trim()} ${at} ${host}`
}

/** Replaces every web address and e-mail address in `text` with its short form. */
export function shortenAddresses(text: string, at: string): string {
  let out = text
  if (/(?:\/\/|www\.)/i.test(out)) {
    out = out.replace(URL, (match) => {
      const trailing = TRAILING.exec(match)?.[0] ?? ''
      return shortUrl(match.slice(0, match.length - trailing.length)) + trailing
    })
  }
  if (!out.includes('@')) return out
  return out.replace(EMAIL, (_, local: string, host: string) => spokenEmail(local, host, at))
}
