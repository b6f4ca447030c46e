/**
 * An agent's event stream passed through a per-event step, with a few events of one's own
 * after it: what an async generator with `for await … yield` does, at one `then` per event
 * instead of the several promises and the suspension every `yield` costs (a run streams
 * hundreds of tokens through here).
 */

/** What to do with one event of the source. */
export const Step = {
  /** Pass the event on. */
  pass: 0,
  /** Drop it and read the next one. */
  skip: 1,
  /** Pass it on, then close the source: the next read ends the stream. */
  passThenStop: 2,
  /** Drop it and close the source now. */
  stop: 3,
} as const;
export type Step = (typeof Step)[keyof typeof Step];

export interface Relay<T> {
  source: AsyncIterable<T>;
  /** Called once per event of the source, in order. */
  see(event: T): Step;
  /** After the source ended or was stopped (not after the consumer left): the events that end the stream. */
  end(): Promise<T[]>;
}

/**
 * The events of the relay `open` resolves to, stepped by its `see`, then those of its `end`.
 * Leaving early (the consumer's `return`) closes the source, as `for await` in a generator does.
 * @example
 * const events = relayEvents(async () => ({ source: agent.stream(input), see: (e) => (e.type === 'done' ? Step.stop : Step.pass), end: async () => [done] }));
 */
export function relayEvents<T>(open: () => Promise<Relay<T>>): AsyncIterableIterator<T> {
  let relay: Relay<T> | undefined;
  let it: AsyncIterator<T> | undefined;
  let stopping = false;
  let tail: T[] | undefined;
  let at = 0;
  let closed = false;

  const finished = (): IteratorResult<T> => {
    closed = true;
    return { done: true, value: undefined };
  };
  const fromTail = (): IteratorResult<T> => (at < tail!.length ? { done: false, value: tail![at++]! } : finished());
  const closeSource = (): Promise<void> => {
    const source = it;
    it = undefined;
    return source?.return ? source.return().then(() => undefined) : Promise.resolve();
  };
  const ending = (): Promise<IteratorResult<T>> =>
    relay!.end().then((events) => {
      tail = events;
      return fromTail();
    });
  const stopThenEnd = (): Promise<IteratorResult<T>> => closeSource().then(ending);

  const step = (r: IteratorResult<T>): IteratorResult<T> | Promise<IteratorResult<T>> => {
    if (r.done) {
      it = undefined;
      return ending();
    }
    let s: Step;
    try {
      s = relay!.see(r.value);
    } catch (e) {
      return closeSource().then(() => Promise.reject(e));
    }
    switch (s) {
      case Step.pass:
        return r;
      case Step.skip:
        return it!.next().then(step);
      case Step.passThenStop:
        stopping = true;
        return r;
      default:
        return stopThenEnd();
    }
  };

  const self: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => self,
    next(): Promise<IteratorResult<T>> {
      if (closed) return Promise.resolve({ done: true, value: undefined });
      if (tail) return Promise.resolve(fromTail());
      if (!relay) {
        return open().then((r) => {
          relay = r;
          it = r.source[Symbol.asyncIterator]();
          return self.next();
        });
      }
      if (stopping) {
        stopping = false;
        return stopThenEnd();
      }
      return it!.next().then(step);
    },
    return(value?: unknown): Promise<IteratorResult<T>> {
      closed = true;
      return closeSource().then(() => ({ done: true, value }) as IteratorResult<T>);
    },
  };
  return self;
}
