// The chat page. What the user writes is shown as text; the bot's replies are Markdown, read by
// markdown.ts and built as DOM nodes by render-markdown.ts. Nothing is ever set as HTML.

import { watchUpdates } from '@taurobot/sw-cache/client'
import { reportCacheCounters } from './cache-report.js'
import { ClipPlayer } from './clip-player.js'
import { parseMarkdown } from './markdown.js'
import { renderMarkdown } from './render-markdown.js'

interface StoredMessage {
  role: 'user' | 'assistant' | 'system'
  content: string
  timestamp?: string
}

interface VoiceInfo {
  url: string
  mimeType: string
  durationMs: number
}

interface ChatResult {
  reply: string
  command?: string
  message?: StoredMessage
  voice?: VoiceInfo
  voiceError?: string
  voiceOn: boolean
}

type ApiError = { error: { code: string; message: string } }

const MAX_CHARS = 4096
const USER_KEY = 'taurobot.user'

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`#${id} is missing from the page`)
  return found as T
}

const list = element<HTMLElement>('messages')
const form = element<HTMLFormElement>('composer')
const input = element<HTMLTextAreaElement>('text')
const send = element<HTMLButtonElement>('send')
const voiceButton = element<HTMLButtonElement>('voice')
const status = element<HTMLElement>('status')
const notice = element<HTMLElement>('notice')
const count = element<HTMLElement>('count')

function userId(): string {
  let id = localStorage.getItem(USER_KEY)
  if (id === null || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    id = crypto.randomUUID()
    localStorage.setItem(USER_KEY, id)
  }
  return id
}
const user = userId()

/** The update banner: says a new version is ready, with a button that switches to it. */
function showUpdate(apply: () => void): void {
  let banner = document.getElementById('update')
  if (!banner) {
    banner = document.createElement('div')
    banner.id = 'update'
    banner.className = 'notice'
    banner.setAttribute('role', 'status')
    banner.append('A new version of TauroBot is ready. ', document.createElement('button'))
    document.body.append(banner)
  }
  const button = banner.querySelector('button') as HTMLButtonElement
  button.textContent = 'Reload'
  button.onclick = () => {
    button.disabled = true
    apply()
  }
}

function showNotice(text: string | undefined): void {
  notice.hidden = text === undefined
  notice.textContent = text ?? ''
}

function setVoice(on: boolean): void {
  voiceButton.setAttribute('aria-pressed', String(on))
  const label = voiceButton.querySelector('.label')
  if (label) label.textContent = on ? 'Voice on' : 'Voice off'
}

/** Shows a message's text: the assistant's as rendered Markdown, everyone else's as written. */
function showContent(body: HTMLElement, role: string, text: string): void {
  if (role === 'assistant') {
    body.classList.add('markdown')
    body.replaceChildren(renderMarkdown(parseMarkdown(text)))
  } else {
    body.textContent = text
  }
}

function renderMessage(role: string, content: string, timestamp?: string): HTMLElement {
  const item = document.createElement('article')
  item.className = `message ${role}`
  item.dataset.role = role
  // The offline responder opens with a bracketed note; it is shown smaller, apart from the reply.
  const note = role === 'assistant' ? /^(\[[^\n]*\])\n/.exec(content)?.[1] : undefined
  if (note !== undefined) {
    const small = document.createElement('small')
    small.className = 'note'
    small.textContent = note.slice(1, -1)
    item.append(small)
  }
  const body = document.createElement('div')
  body.className = 'content'
  showContent(body, role, note === undefined ? content : content.slice(note.length + 1))
  item.append(body)
  if (timestamp) {
    const time = document.createElement('time')
    time.dateTime = timestamp
    const date = new Date(timestamp)
    time.textContent = Number.isNaN(date.getTime())
      ? timestamp
      : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    item.append(time)
  }
  return item
}

function addMessage(role: string, content: string, timestamp?: string): HTMLElement {
  const item = renderMessage(role, content, timestamp)
  list.append(item)
  list.scrollTop = list.scrollHeight
  return item
}

function addAudio(item: HTMLElement, voice: VoiceInfo): void {
  const audio = document.createElement('audio')
  audio.controls = true
  audio.preload = 'auto'
  audio.src = voice.url
  audio.dataset.durationMs = String(voice.durationMs)
  item.append(audio)
  list.scrollTop = list.scrollHeight
  // Browsers may refuse autoplay before the user has interacted; the controls stay usable then.
  audio.play().catch(() => {})
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, init)
  const body = (await response.json().catch(() => undefined)) as T | ApiError | undefined
  if (!response.ok) {
    const message =
      body && typeof body === 'object' && 'error' in body ? body.error.message : `HTTP ${response.status}`
    throw new Error(message)
  }
  return body as T
}

// The last conversation seen, kept on this device so the page still shows it offline.
const SAVED_KEY = `taurobot.history.${user}`
const SAVED_MESSAGES = 50

function showHistory(messages: StoredMessage[]): void {
  list.replaceChildren()
  if (messages.length === 0) {
    addMessage('welcome', 'Say hello, or type /help. Your conversation is kept on the server between visits.')
  }
  for (const m of messages) addMessage(m.role, m.content, m.timestamp)
}

function savedHistory(): StoredMessage[] {
  try {
    const saved = JSON.parse(localStorage.getItem(SAVED_KEY) ?? '[]') as unknown
    return Array.isArray(saved)
      ? saved.filter((m): m is StoredMessage => typeof m?.role === 'string' && typeof m?.content === 'string')
      : []
  } catch {
    return []
  }
}

function appendSaved(...messages: StoredMessage[]): void {
  localStorage.setItem(SAVED_KEY, JSON.stringify([...savedHistory(), ...messages].slice(-SAVED_MESSAGES)))
}

async function loadHistory(): Promise<void> {
  try {
    const data = await api<{ messages: StoredMessage[]; voiceOn: boolean; responder: string }>(
      `/api/history?user=${encodeURIComponent(user)}`,
    )
    showHistory(data.messages)
    localStorage.setItem(SAVED_KEY, JSON.stringify(data.messages.slice(-SAVED_MESSAGES)))
    setVoice(data.voiceOn)
    status.textContent = `replies: ${data.responder}`
    showNotice(undefined)
    send.disabled = false
  } catch {
    const saved = savedHistory()
    if (saved.length > 0) showHistory(saved)
    status.textContent = 'server unreachable'
    showNotice(
      saved.length > 0
        ? 'You are offline: this is the conversation as of your last visit. You can write again when the server is back.'
        : 'You are offline: this page came from the service worker. Your conversation will be back when the server is.',
    )
    send.disabled = true
  }
}

/** Sends one message and shows the reply as it streams in. */
async function sendMessage(text: string): Promise<void> {
  for (const welcome of list.querySelectorAll('.message.welcome')) welcome.remove()
  const sentAt = new Date().toISOString()
  addMessage('user', text, sentAt)
  const pending = addMessage('assistant', '…')
  const content = pending.querySelector('.content') as HTMLElement
  let frame: number | undefined
  try {
    const response = await fetch('/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ user, text }),
    })
    if (!response.ok || response.body === null) {
      const body = (await response.json().catch(() => undefined)) as ApiError | undefined
      throw new Error(body?.error.message ?? `HTTP ${response.status}`)
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffered = ''
    let streamed = ''
    let result: ChatResult | undefined
    // The sentences spoken so far; moved into the final message when the reply is complete.
    const clips = document.createElement('div')
    clips.className = 'clips'
    pending.append(clips)
    const player = new ClipPlayer(clips)
    for (;;) {
      const { value, done } = await reader.read()
      if (value) buffered += value
      const lines = buffered.split('\n')
      buffered = done ? '' : (lines.pop() ?? '')
      for (const line of lines) {
        if (line.trim() === '') continue
        const event = JSON.parse(line) as
          | { type: 'chunk'; text: string }
          | { type: 'clip'; url: string; durationMs: number; text: string }
          | ({ type: 'reply' } & ChatResult)
          | ({ type: 'error' } & ApiError)
        if (event.type === 'chunk') {
          streamed += event.text
          // Rendered as Markdown as it grows, at most once a frame however fast the tokens come.
          frame ??= requestAnimationFrame(() => {
            frame = undefined
            showContent(content, 'assistant', streamed)
            list.scrollTop = list.scrollHeight
          })
        } else if (event.type === 'clip') {
          player.add(event)
          list.scrollTop = list.scrollHeight
        } else if (event.type === 'reply') {
          result = event
        } else {
          throw new Error(event.error.message)
        }
      }
      if (done) break
    }
    if (frame !== undefined) cancelAnimationFrame(frame)
    if (result === undefined) throw new Error('the reply was cut off')
    const final = renderMessage(
      result.command ? 'system' : 'assistant',
      result.reply,
      result.message?.timestamp,
    )
    if (clips.childElementCount > 0) final.append(clips)
    pending.replaceWith(final)
    if (result.message) appendSaved({ role: 'user', content: text, timestamp: sentAt }, result.message)
    setVoice(result.voiceOn)
    if (result.command === 'clear') await loadHistory()
    if (result.voice) addAudio(final, result.voice)
    else if (result.voiceError) addMessage('error', `No voice for this reply: ${result.voiceError}`)
  } catch (error) {
    if (frame !== undefined) cancelAnimationFrame(frame)
    pending.remove()
    addMessage('error', error instanceof Error ? error.message : String(error))
  }
}

// The composer grows with its text from one line to this many, then scrolls.
const COMPOSER_LINES = 6

function fitComposer(): void {
  const style = getComputedStyle(input)
  const px = (value: string) => Number.parseFloat(value) || 0
  const line = px(style.lineHeight) || 1.4 * px(style.fontSize)
  const padding = px(style.paddingTop) + px(style.paddingBottom)
  const border = px(style.borderTopWidth) + px(style.borderBottomWidth)
  input.style.height = 'auto'
  // scrollHeight counts the padding but not the border; the box is sized border to border.
  const wanted = input.scrollHeight + border
  const most = Math.ceil(COMPOSER_LINES * line + padding + border)
  input.style.height = `${Math.min(wanted, most)}px`
  input.style.overflowY = wanted > most ? 'auto' : 'hidden'
}

function updateCount(): void {
  const used = [...input.value].length
  count.textContent = used > MAX_CHARS - 200 ? `${used}/${MAX_CHARS}` : ''
  fitComposer()
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const text = input.value.trim()
  if (text === '' || send.disabled) return
  input.value = ''
  updateCount()
  send.disabled = true
  void sendMessage(text).finally(() => {
    send.disabled = false
    input.focus()
  })
})

input.addEventListener('input', updateCount)
// A narrower window wraps the text onto more lines.
window.addEventListener('resize', fitComposer)
fitComposer()
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault()
    form.requestSubmit()
  }
})

voiceButton.addEventListener('click', () => {
  const wanted = voiceButton.getAttribute('aria-pressed') !== 'true'
  api<{ voiceOn: boolean }>('/api/voice', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, on: wanted }),
  })
    .then((r) => {
      setVoice(r.voiceOn)
      addMessage('system', r.voiceOn ? 'Voice replies are on.' : 'Voice replies are off.')
    })
    .catch((error: unknown) => addMessage('error', error instanceof Error ? error.message : String(error)))
})

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((error: unknown) => {
    console.warn('service worker not registered:', error)
  })
  // A new release is installed and waits: the banner's button lets it take over, and the page
  // reloads once it has. A refreshed file (a notice on the worker's channel) needs a reload too.
  watchUpdates(showUpdate, {
    channelName: 'taurobot',
    onUpdated: () => showUpdate(() => location.reload()),
  })
  reportCacheCounters(element<HTMLDetailsElement>('debug'), element('debug-counters'))
}

window.addEventListener('online', () => void loadHistory())
void loadHistory()
