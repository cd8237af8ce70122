/** In-flight request promises, so shutdown can wait for them (drain). */
export function createInflight() {
  const pending = new Set<Promise<unknown>>();
  return {
    add(p: Promise<unknown>) {
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    get size() {
      return pending.size;
    },
    async drain(timeoutMs: number): Promise<boolean> {
      if (pending.size === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const done = Promise.allSettled([...pending]).then(() => true as const);
      const r = await Promise.race([done, timedOut]);
      clearTimeout(timer);
      return r;
    },
  };
}
