/** A minimal typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    // Iterating the live set: a listener removed meanwhile is skipped, no copy per event.
    for (const l of set) {
      try {
        (l as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (e) {
        // A throwing listener must not break the client's frame handling.
        setTimeout(() => {
          throw e;
        });
      }
    }
  }
}
