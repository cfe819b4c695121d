// Peak resident memory of this process, sampled every 2 ms: getrusage's maxRSS would do, but on
// Linux it keeps the parent's size from before exec, so a big benchmark runner would show through.
let peak = process.memoryUsage.rss();
setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 2).unref();

export const peakRssKb = () => Math.max(peak, process.memoryUsage.rss()) / 1024;
