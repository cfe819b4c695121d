/**
 * moto's SQS checks every message a ReceiveMessage returns against the queue's retention period
 * by computing all of the queue's attributes, several of them a pass over every message: a
 * receive of 10 from a queue of 2,000 takes about a second on these machines (a tenth with the
 * check below), so the SQS emulator, not the function, would set the load test's pace. The load
 * runner's moto_server (started by test/helpers/moto.ts's startMoto, as everywhere) gets a
 * `sitecustomize` on its PYTHONPATH that makes the same check read the one attribute it needs:
 * the same answer, without the passes. Nothing else of moto is changed. LOAD_MOTO_FAST=0 runs
 * moto as it is.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";

const SITECUSTOMIZE = `# Written by test/bench/load/moto-fast.ts for the load test's moto_server (see there).
try:
    import moto.sqs.models as _models
    from moto.core.utils import unix_time as _unix_time

    def _is_message_valid_based_on_retention_period(self, queue_name, message):
        queue = self.get_queue(queue_name)
        return int(queue.message_retention_period) + message.sent_timestamp / 1000 > _unix_time()

    _models.SQSBackend.is_message_valid_based_on_retention_period = (
        _is_message_valid_based_on_retention_period
    )
except Exception as error:  # a moto without that method: run it as it is
    import sys

    print(f"load test: moto's SQS retention check left as it is: {error!r}", file=sys.stderr)
`;

/**
 * Writes the sitecustomize under `dir` and puts it first on this process's PYTHONPATH, which
 * startMoto's child inherits. Returns the directory.
 */
export function speedUpMotoSqs(dir: string): string {
  const at = join(dir, "moto-sitecustomize");
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, "sitecustomize.py"), SITECUSTOMIZE);
  process.env.PYTHONPATH = [at, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  return at;
}
