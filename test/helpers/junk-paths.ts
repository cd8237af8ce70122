/** Distinct letter-only names, so the inventory folds none of them into `{id}`. */
export const junkName = (i: number): string => {
  let s = '';
  for (let n = i + 26; n > 0; n = Math.floor(n / 26)) s = String.fromCharCode(97 + (n % 26)) + s;
  return s;
};

/** Runs `fn(0…n-1)` `size` at a time: a flood of requests without opening thousands of sockets at once. */
export async function inBatches(n: number, size: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += size) await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => fn(i + j)));
}
