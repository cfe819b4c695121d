/**
 * A clock for pacing code (a rate, a lease, a schedule) that moves only when told: `sleep` moves
 * it by the time asked, at once, so a test of minutes runs in microseconds and reads as a timeline.
 * Only for code that takes `now` and `sleep` as options.
 */
export function virtualClock(start = 0) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    get t() {
      return t;
    },
  };
}
