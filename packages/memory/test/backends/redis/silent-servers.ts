// Loopback addresses that never answer, for the connect-timeout tests (no network here but
// loopback, so an unroutable address cannot be relied on to drop packets).
import { spawn } from 'node:child_process'
import { createServer, type Socket, connect as tcpConnect } from 'node:net'

export interface Silent {
  port: number
  close(): Promise<void>
}

/** A server that accepts connections and never says a word: the connection is up, nothing answers. */
export async function silentServer(): Promise<Silent> {
  const sockets: Socket[] = []
  const server = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

// A process that listens with the smallest backlog, then blocks its event loop so it never
// accepts: once the kernel's accept queue is full, further SYNs are dropped and a connect hangs
// until the client gives up, as with a host that drops the packets.
const BLOCKED_LISTENER = `
const server = require('node:net').createServer()
server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n')
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000)
})`

/** A port where the TCP connection itself is never established (its SYNs are dropped). */
export async function blackHole(): Promise<Silent> {
  const child = spawn(process.execPath, ['-e', BLOCKED_LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
  })
  const fillers: Socket[] = []
  // Fill the accept queue until a connection stays pending: the next one is dropped too.
  for (let i = 0; i < 16; i++) {
    const socket = tcpConnect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    fillers.push(socket)
    await new Promise((resolve) => setTimeout(resolve, 50))
    if (socket.connecting) break
  }
  if (!fillers.at(-1)?.connecting) {
    child.kill('SIGKILL')
    throw new Error('the kernel accepted every connection: could not make a port that drops them')
  }
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy()
      child.kill('SIGKILL')
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve),
      )
    },
  }
}
