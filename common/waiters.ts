// Callers waiting, bounded, for something to arrive under a key (a pod the informer has not delivered yet, an
// AzureAssignedIdentity becoming Assigned): `wait` resolves with what `wake` brings, or undefined at the timeout.

export class Waiters<T> {
  private readonly byKey = new Map<string, Set<(v: T | undefined) => void>>();

  wait(key: string, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const set = this.byKey.get(key) ?? new Set();
      this.byKey.set(key, set);
      const done = (v: T | undefined) => {
        clearTimeout(timer);
        set.delete(done);
        if (!set.size) this.byKey.delete(key);
        resolve(v);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      set.add(done);
    });
  }

  wake(key: string, value: T): void {
    for (const done of [...(this.byKey.get(key) ?? [])]) done(value);
  }
}
