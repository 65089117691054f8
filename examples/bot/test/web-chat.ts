// Drives the web chat the way its page does: through the page in a browser (the browser tests, the
// screenshot script) or through its JSON API (the tests of a bot process with another backend).
import type { Page } from 'playwright-core'

/**
 * Types `text` into the chat, presses Enter and waits until the reply is final: sending disables
 * the send button at once, and it is enabled again when the reply has ended.
 */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const sent = await page.locator('#messages .message[data-role="user"]').count()
  await page.fill('#text', text)
  await page.press('#text', 'Enter')
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('#messages .message[data-role="user"]').length > n &&
      !(document.getElementById('send') as HTMLButtonElement).disabled,
    sent,
  )
}

/** Sends `text` as `user` to `POST /api/chat` of the bot at `baseUrl`; throws unless it answers 200. */
export async function chatOverApi(
  baseUrl: string | undefined,
  user: string,
  text: string,
): Promise<{ reply: string }> {
  const response = await fetch(new URL('/api/chat', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, text }),
  })
  if (response.status !== 200) {
    throw new Error(`POST /api/chat answered ${response.status}: ${await response.text()}`)
  }
  return (await response.json()) as { reply: string }
}
