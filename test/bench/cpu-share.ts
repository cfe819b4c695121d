/**
 * Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB, so about 0.15 of
 * a CPU at 256 MB. To measure where Lambda really runs, a function's process (and only it: the
 * servers it talks to stay unlimited) is started inside a cgroup whose CPU quota is that share
 * (cgroup v1's cpu controller, cfs_quota_us over cfs_period_us). Needs root and a writable
 * /sys/fs/cgroup/cpu; `available()` says whether this machine has them.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup/cpu";
const PERIOD_US = 100_000;
/** Lambda's figure: the memory at which a function gets one full vCPU. */
export const MB_PER_VCPU = 1769;

export const cpuShareOf = (memoryMb: number): number => memoryMb / MB_PER_VCPU;

export function available(): boolean {
  try {
    const probe = join(ROOT, `mm-bench-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

export interface CpuLimit {
  /** A command line that runs `command args…` inside the limit. */
  wrap(command: string, args: readonly string[]): [string, string[]];
  close(): void;
}

let n = 0;

/** A cgroup with `share` of one CPU (0.15 = 15 ms of every 100 ms). */
export function cpuLimit(share: number): CpuLimit {
  const dir = join(ROOT, `mm-bench-${process.pid}-${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "cpu.cfs_period_us"), String(PERIOD_US));
  writeFileSync(join(dir, "cpu.cfs_quota_us"), String(Math.max(1000, Math.round(share * PERIOD_US))));
  const procs = join(dir, "cgroup.procs");
  return {
    // The shell moves itself into the cgroup, then becomes the command: nothing else is limited.
    wrap: (command, args) => ["sh", ["-c", `echo $$ > ${procs} && exec "$@"`, "sh", command, ...args]],
    close: () => {
      if (existsSync(dir)) {
        try {
          rmdirSync(dir);
        } catch {
          // a process still in it: the kernel keeps the group until it exits; nothing to do
        }
      }
    },
  };
}
