/** The local queue's dead-letter list: each entry with why it is there, newest first, the newest 5000 kept. */

/** A record on the local dead-letter list, with why it is there. */
export interface DeadLetterEntry {
  messageId: string;
  body: string;
  /** Receives before it was dead-lettered, the last one included. */
  receiveCount: number;
  /** One line for the operator. */
  reason: string;
  /** InvalidNotification, an SMTP code… from the function; MaxReceiveCountExceeded from the redrive policy. */
  code: string;
  /** Who put it there: the function itself, or the queue's redrive policy (the receive limit). */
  by: "function" | "receive-limit";
  deadAt: string;
}

/** Dead letters kept (the newest); the queue's count goes on past it. */
const MAX_DEAD_LETTERS_KEPT = 5000;

/** Puts `letter` first on `list` (changed in place, so readers of the list see it), dropping the oldest past the limit. */
export function addDeadLetter(list: DeadLetterEntry[], letter: DeadLetterEntry): void {
  list.unshift(letter);
  list.length = Math.min(list.length, MAX_DEAD_LETTERS_KEPT);
}

/** Takes the letters whose ids are in `ids` (every letter when `ids` is undefined) off `list`, in place; returns them, oldest first. */
export function takeDeadLetters(list: DeadLetterEntry[], ids?: ReadonlySet<string>): DeadLetterEntry[] {
  const taken = list.filter((l) => ids === undefined || ids.has(l.messageId));
  const kept = list.filter((l) => !taken.includes(l));
  list.splice(0, list.length, ...kept);
  return taken.toReversed();
}
