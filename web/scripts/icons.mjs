// Draws the app's icons (web/public/icon-192.png, icon-512.png, maskable too): a chain link
// ("maillon") in white on Maillon's green, as PNG written with node's zlib alone, so no image
// tool is needed. Run once after changing the drawing: node scripts/icons.mjs
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const GREEN = [0x1e, 0x56, 0x31];
const WHITE = [0xff, 0xff, 0xff];

function crc32(bytes) {
  let c;
  let crc = 0xffffffff;
  for (const b of bytes) {
    c = (crc ^ b) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, "ascii"), data])), 8 + data.length);
  return out;
}

// A stadium (a rounded bar) ring: points whose distance to a segment lies in [inner, outer].
function inRing(x, y, ax, ay, bx, by, inner, outer) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  const d = Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
  return d >= inner && d <= outer;
}

function draw(size, maskable) {
  const rows = [];
  const s = size / 512;
  // A maskable icon keeps its drawing inside the central 80 % safe zone.
  const k = maskable ? 0.8 : 1;
  const c = size / 2;
  const p = (v) => c + (v - 256) * s * k;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const r = maskable ? 0 : 96 * s;
      const cx = Math.max(r, Math.min(size - r, x + 0.5));
      const cy = Math.max(r, Math.min(size - r, y + 0.5));
      const inside = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= r || r === 0;
      const link =
        inRing(x + 0.5, y + 0.5, p(150), p(300), p(250), p(200), 44 * s * k, 78 * s * k) ||
        inRing(x + 0.5, y + 0.5, p(262), p(312), p(362), p(212), 44 * s * k, 78 * s * k);
      const [R, G, B] = link ? WHITE : GREEN;
      row.set([R, G, B, inside ? 255 : 0], 1 + x * 4);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

for (const size of [192, 512]) {
  writeFileSync(new URL(`../public/icon-${size}.png`, import.meta.url), draw(size, false));
  writeFileSync(new URL(`../public/icon-maskable-${size}.png`, import.meta.url), draw(size, true));
}
