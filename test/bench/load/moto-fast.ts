/**
 * moto's SQS checks every message a ReceiveMessage returns against the queue's retention period
 * by computing all of the queue's attributes, several of them a pass over every message: a
 * receive of 10 from a queue of 2,000 takes about a second on these machines (a tenth with the
 * check below), so the SQS emulator, not the function, would set the load test's pace. The load
 * runner's moto_server (started by test/helpers/moto.ts's startMoto, as everywhere) gets a
 * patch, run at its start, that makes the same check read the one attribute it needs: the same
 * answer, without the passes. Nothing else of moto is changed. LOAD_MOTO_FAST=0 runs
 * moto as it is.
 */
/** For startMoto's `patches`. */
export const FAST_SQS_RECEIVE = `# test/bench/load/moto-fast.ts: the load test's SQS retention check (see there).
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
 * moto's SQS deletes a message by rebuilding the queue's message list from a copy, without the
 * queue's lock: two deletes at once (the function deletes each record once the server accepted
 * it, lib/notifications/in-flight.ts, from every container, while the poller deletes its batches)
 * each write back a list that still holds the other's message, which then comes back after its
 * visibility, and is sent again: a duplicate real SQS never makes (a delete there is final). This
 * patch runs each delete under the queue's own lock (the one its sends already take). Applied
 * whatever LOAD_MOTO_FAST says: it is about what the queue answers, not how fast.
 */
export const ATOMIC_SQS_DELETE = `# test/bench/load/moto-fast.ts: the load test's SQS deletes one at a time (see there).
try:
    import moto.sqs.models as _models

    _delete_message = _models.Queue.delete_message

    def _atomic_delete_message(self, receipt_handle):
        with self._messages_lock:
            return _delete_message(self, receipt_handle)

    _models.Queue.delete_message = _atomic_delete_message
except Exception as error:  # a moto without them: run it as it is
    import sys

    print(f"load test: moto's SQS deletes left as they are: {error!r}", file=sys.stderr)
`;
