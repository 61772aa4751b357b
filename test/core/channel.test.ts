import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/core/channel.js';

describe('Channel', () => {
  it('tryPush buffers while there is room and says so; a full channel leaves the item to push()', async () => {
    const ch = new Channel<number>(2);
    expect(ch.tryPush(1)).toBe(true);
    expect(ch.tryPush(2)).toBe(true);
    expect(ch.tryPush(3)).toBe(false);
    expect(ch.size).toBe(2);
    const pushed = ch.push(3);
    const it = ch[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect(await pushed).toBe(true);
    ch.end();
    expect(await it.next()).toEqual({ value: 2, done: false });
    expect(await it.next()).toEqual({ value: 3, done: false });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('hands an item to a consumer already waiting, and the end to one waiting on an empty buffer', async () => {
    const ch = new Channel<string>(1);
    const it = ch[Symbol.asyncIterator]();
    const first = it.next();
    ch.tryPush('a');
    expect(ch.size).toBe(0);
    expect(await first).toEqual({ value: 'a', done: false });
    const last = it.next();
    ch.end();
    expect(await last).toEqual({ value: undefined, done: true });
    expect(ch.closed).toBe(true);
  });

  it('an error given to end() reaches a waiting consumer', async () => {
    const ch = new Channel<string>(1);
    const it = ch[Symbol.asyncIterator]();
    const waiting = it.next();
    ch.end(new Error('source broke'));
    await expect(waiting).rejects.toThrow('source broke');
  });

  it('after the consumer stops, pushes are dropped (tryPush true, push false)', async () => {
    const ch = new Channel<number>(1);
    const it = ch[Symbol.asyncIterator]();
    ch.tryPush(1);
    const blocked = ch.push(2);
    await it.return();
    expect(await blocked).toBe(false);
    expect(ch.tryPush(3)).toBe(true);
    expect(await ch.push(4)).toBe(false);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});

describe('Channel.sinkTo', () => {
  it('offers items to the sink first; refused ones, and later ones while any is buffered, go the async way', async () => {
    const ch = new Channel<number>(2);
    const taken: number[] = [];
    let room = 2;
    ch.sinkTo((n) => {
      if (room === 0) return false;
      room--;
      taken.push(n);
      return true;
    });
    const it = ch[Symbol.asyncIterator]();
    expect(ch.tryPush(1)).toBe(true);
    expect(ch.tryPush(2)).toBe(true);
    expect(taken).toEqual([1, 2]);
    expect(ch.size).toBe(0);
    // Refused: buffered up to the capacity, then push waits (the backpressure of the iteration).
    expect(ch.tryPush(3)).toBe(true);
    room = 1; // the sink has room again, but 3 is buffered: 4 queues behind it
    expect(ch.tryPush(4)).toBe(true);
    expect(ch.tryPush(5)).toBe(false);
    const pushed = ch.push(5);
    expect(taken).toEqual([1, 2]);
    expect(await it.next()).toEqual({ value: 3, done: false });
    expect(await pushed).toBe(true);
    expect(await it.next()).toEqual({ value: 4, done: false });
    expect(await it.next()).toEqual({ value: 5, done: false });
    // Empty again: the sink takes the next one, and a consumer waiting in next() gets what it refuses.
    const waiting = it.next();
    expect(ch.tryPush(6)).toBe(true);
    expect(taken).toEqual([1, 2, 6]);
    expect(ch.tryPush(7)).toBe(true);
    expect(await waiting).toEqual({ value: 7, done: false });
    ch.end();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});
