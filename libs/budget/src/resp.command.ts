import { Command } from 'ioredis';

/**
 * A command that goes on the wire as one Buffer of RESP. ioredis writes a string built by
 * concatenating four pieces per argument (about 6 KB of heap for the ~45 arguments of a
 * reserve's EVALSHA, then encoded again by the socket); this sizes the command first, then
 * writes each argument once into one buffer (from Node's pool: next to no heap).
 *
 * By the time ioredis asks for it, every argument is a string or a Buffer (Command converts
 * numbers with String() as it is made), so the bytes are those ioredis would have sent.
 */
export class RespCommand extends Command {
  override toWritable(): Buffer {
    return encodeCommand(this.name, this.args as readonly (string | Buffer)[]);
  }
}

const CR = 13;
const LF = 10;
const ARRAY = 42; // '*'
const BULK = 36; // '$'

/** Byte lengths of the arguments, reused by every call (the hot path allocates none). */
let lengths = new Int32Array(64);

/** `*<n+1>` then `$<len> <bytes>` for the name and each argument, each line ending in CRLF. */
export function encodeCommand(name: string, args: readonly (string | Buffer)[]): Buffer {
  const count = args.length + 1;
  if (lengths.length < count) {
    lengths = new Int32Array(count * 2);
  }
  let size = 3 + digits(count);
  for (let i = 0; i < count; i++) {
    const part = i === 0 ? name : args[i - 1]!;
    const length = typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length;
    lengths[i] = length;
    size += 5 + digits(length) + length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = header(out, 0, ARRAY, count);
  for (let i = 0; i < count; i++) {
    const part = i === 0 ? name : args[i - 1]!;
    const length = lengths[i]!;
    at = header(out, at, BULK, length);
    if (typeof part === 'string') {
      out.write(part, at, length, 'utf8');
    } else {
      part.copy(out, at);
    }
    at += length;
    out[at++] = CR;
    out[at++] = LF;
  }
  return out;
}

function header(out: Buffer, at: number, marker: number, n: number): number {
  out[at++] = marker;
  const end = at + digits(n);
  for (let i = end - 1; i >= at; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  out[end] = CR;
  out[end + 1] = LF;
  return end + 2;
}

function digits(n: number): number {
  let count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}
