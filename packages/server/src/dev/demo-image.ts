import { deflateSync } from "node:zlib";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const mix = (a: number, b: number, t: number) => Math.round(a + (b - a) * t);

/**
 * A small landscape photo for the demo conversations (a sunset over a lake
 * and hills), drawn here so dev mode ships no binary files.
 */
export function demoPhotoPng(width = 480, height = 320): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  const horizon = Math.round(height * 0.62);
  const sun = { x: width * 0.68, y: horizon - height * 0.08, r: height * 0.11 };
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      let r: number;
      let g: number;
      let b: number;
      const hill = horizon - height * (0.1 + 0.06 * Math.sin(x / 37) + 0.04 * Math.sin(x / 13 + 1));
      if (y < horizon) {
        const t = y / horizon;
        r = mix(58, 250, t);
        g = mix(64, 170, t);
        b = mix(140, 120, t);
        const d = Math.hypot(x - sun.x, y - sun.y);
        if (d < sun.r) {
          r = 255;
          g = 226;
          b = 150;
        } else if (d < sun.r * 2.2) {
          const glow = 1 - (d - sun.r) / (sun.r * 1.2);
          r = mix(r, 255, glow * 0.5);
          g = mix(g, 210, glow * 0.5);
          b = mix(b, 150, glow * 0.3);
        }
        if (y > hill) {
          const t2 = (y - hill) / (horizon - hill);
          r = mix(70, 40, t2);
          g = mix(60, 45, t2);
          b = mix(90, 70, t2);
        }
      } else {
        const t = (y - horizon) / (height - horizon);
        r = mix(200, 40, t);
        g = mix(130, 60, t);
        b = mix(120, 110, t);
        const reflection = Math.abs(x - sun.x) < sun.r * (1 - t) && Math.sin(y * 1.7) > -0.2;
        if (reflection) {
          r = mix(r, 255, 0.6);
          g = mix(g, 220, 0.6);
          b = mix(b, 160, 0.5);
        }
      }
      const at = row + 1 + x * 3;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
