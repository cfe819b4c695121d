/** Small statistics for noisy shared machines: medians of interleaved runs, ratios of medians. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/**
 * Runs each variant `rounds` times, interleaved (A B C A B C …) so that a noisy neighbour hurts
 * every variant alike, and returns each variant's samples.
 */
export async function interleaved<K extends string>(
  variants: Record<K, () => Promise<number>>,
  rounds: number,
): Promise<Record<K, number[]>> {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let r = 0; r < rounds; r++) {
    for (const [k, run] of Object.entries(variants) as Array<[K, () => Promise<number>]>)
      samples[k].push(await run());
  }
  return samples;
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);
