import { describe, expect, it } from 'vitest';
import { RespCommand, encodeCommand } from './resp.command.js';

describe('encodeCommand', () => {
  it('writes the bytes ioredis writes for the same command', () => {
    const args = ['sha', 3, 'k:{g1}:{ü}:b', '', 'x'.repeat(123), -1, 0.5, 'émoji 🙂'];
    const ours = new RespCommand('evalsha', args, { replyEncoding: 'utf8' });
    const theirs = Object.getPrototypeOf(RespCommand.prototype) as {
      toWritable: (this: unknown, socket: object) => string | Buffer;
    };
    const expected = Buffer.from(theirs.toWritable.call(ours, {}) as string, 'utf8');
    expect(ours.toWritable()).toEqual(expected);
    expect(ours.toWritable().toString('utf8')).toBe(
      '*9\r\n$7\r\nevalsha\r\n$3\r\nsha\r\n$1\r\n3\r\n$13\r\nk:{g1}:{ü}:b\r\n$0\r\n\r\n' +
        `$123\r\n${'x'.repeat(123)}\r\n$2\r\n-1\r\n$3\r\n0.5\r\n$11\r\némoji 🙂\r\n`,
    );
  });

  it('grows past 64 arguments and copies Buffers as they are', () => {
    const many = Array.from({ length: 150 }, (_, i) => `a${i}`);
    const text = encodeCommand('mset', many).toString('latin1');
    expect(text.startsWith('*151\r\n$4\r\nmset\r\n$2\r\na0\r\n')).toBe(true);
    expect(text.endsWith('$4\r\na149\r\n')).toBe(true);
    expect(encodeCommand('set', [Buffer.from([0, 255]), 'v'])).toEqual(
      Buffer.concat([
        Buffer.from('*3\r\n$3\r\nset\r\n$2\r\n'),
        Buffer.from([0, 255]),
        Buffer.from('\r\n$1\r\nv\r\n'),
      ]),
    );
  });
});
