// Draws the app icons (PNG for the manifest, SVG for the page) from one description of the shapes,
// so the committed files can be regenerated: `npx tsx scripts/make-icons.ts`.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'

type Point = [number, number]
const ACCENT: [number, number, number] = [0x8f, 0x2d, 0x1a]
const WHITE: [number, number, number] = [0xff, 0xff, 0xff]

// The design in a unit square: a white speech bubble with two horns, three dots inside.
const bubble = { x0: 0.2, y0: 0.34, x1: 0.8, y1: 0.74, r: 0.12 }
const tail: Point[] = [
  [0.3, 0.72],
  [0.44, 0.72],
  [0.26, 0.87],
]
const leftHorn: Point[] = [
  [0.23, 0.4],
  [0.38, 0.35],
  [0.12, 0.13],
]
const rightHorn: Point[] = [
  [0.77, 0.4],
  [0.62, 0.35],
  [0.88, 0.13],
]
const dots: Point[] = [
  [0.37, 0.54],
  [0.5, 0.54],
  [0.63, 0.54],
]
const dotR = 0.045

function inRoundRect(
  x: number,
  y: number,
  b: { x0: number; y0: number; x1: number; y1: number; r: number },
): boolean {
  const cx = Math.min(Math.max(x, b.x0 + b.r), b.x1 - b.r)
  const cy = Math.min(Math.max(y, b.y0 + b.r), b.y1 - b.r)
  return x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1 && (x - cx) ** 2 + (y - cy) ** 2 <= b.r ** 2
}

function inTriangle(x: number, y: number, [a, b, c]: Point[]): boolean {
  if (!a || !b || !c) return false
  const s = (p: Point, q: Point) => (x - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (y - q[1])
  const d1 = s(a, b)
  const d2 = s(b, c)
  const d3 = s(c, a)
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0))
}

/** The colour at a point of the unit square, or undefined where the icon is transparent. */
function colourAt(u: number, v: number, maskable: boolean): [number, number, number] | undefined {
  if (!maskable && !inRoundRect(u, v, { x0: 0, y0: 0, x1: 1, y1: 1, r: 0.22 })) return undefined
  // Maskable icons keep their content inside the central 80% circle.
  const scale = maskable ? 0.78 : 1
  const x = (u - 0.5) / scale + 0.5
  const y = (v - 0.5) / scale + 0.5
  if (dots.some(([dx, dy]) => (x - dx) ** 2 + (y - dy) ** 2 <= dotR ** 2)) return ACCENT
  if (
    inRoundRect(x, y, bubble) ||
    inTriangle(x, y, tail) ||
    inTriangle(x, y, leftHorn) ||
    inTriangle(x, y, rightHorn)
  ) {
    return WHITE
  }
  return ACCENT
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1))
  }
  return ~crc >>> 0
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

function png(size: number, maskable: boolean): Buffer {
  const samples = 4
  const raw = Buffer.alloc(size * (size * 4 + 1))
  for (let py = 0; py < size; py++) {
    raw[py * (size * 4 + 1)] = 0 // filter: none
    for (let px = 0; px < size; px++) {
      let r = 0
      let g = 0
      let b = 0
      let a = 0
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const c = colourAt((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size, maskable)
          if (c === undefined) continue
          r += c[0]
          g += c[1]
          b += c[2]
          a += 1
        }
      }
      const o = py * (size * 4 + 1) + 1 + px * 4
      // Colour is averaged over covered samples only, so edges blend through alpha, not darkening.
      raw[o] = a ? Math.round(r / a) : 0
      raw[o + 1] = a ? Math.round(g / a) : 0
      raw[o + 2] = a ? Math.round(b / a) : 0
      raw[o + 3] = Math.round((255 * a) / samples ** 2)
    }
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array()),
  ])
}

function svg(): string {
  const n = (v: number) => Math.round(v * 512)
  const poly = (p: Point[]) => `<polygon points="${p.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}"/>`
  const b = bubble
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">',
    '<title>TauroBot</title>',
    `<rect width="512" height="512" rx="${n(0.22)}" fill="#8f2d1a"/>`,
    '<g fill="#fff">',
    `<rect x="${n(b.x0)}" y="${n(b.y0)}" width="${n(b.x1 - b.x0)}" height="${n(b.y1 - b.y0)}" rx="${n(b.r)}"/>`,
    poly(tail),
    poly(leftHorn),
    poly(rightHorn),
    '</g>',
    '<g fill="#8f2d1a">',
    ...dots.map(([x, y]) => `<circle cx="${n(x)}" cy="${n(y)}" r="${n(dotR)}"/>`),
    '</g>',
    '</svg>',
    '',
  ].join('\n')
}

const dir = join(import.meta.dirname, '..', 'src', 'web', 'public', 'icons')
writeFileSync(join(dir, 'icon-192.png'), png(192, false))
writeFileSync(join(dir, 'icon-512.png'), png(512, false))
writeFileSync(join(dir, 'icon-maskable-512.png'), png(512, true))
writeFileSync(join(dir, 'icon.svg'), svg())
console.log(`icons written to ${dir}`)
