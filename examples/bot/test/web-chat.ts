// Drives the web chat's page the way a person does, for the browser tests and the screenshot script.
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
