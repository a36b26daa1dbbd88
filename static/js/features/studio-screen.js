// What the moderator put on the studio views (presenter screen, overlay): the choice from the snapshot, `screen`
// and `event` messages, and a poll as those views show it.
import { MessageType } from "../lib/protocol.js";

/**
 * The screen choice a message carries ({mode, poll_id}), or null when it carries none. An `on_air` message carries
 * one when putting the question on air switched the screen to it (on air means on screen, in one change).
 */
export function screenOf(message) {
  const screen = message.type === MessageType.SCREEN || message.type === MessageType.ON_AIR ? message.screen
    : message.type === MessageType.SNAPSHOT || message.type === MessageType.EVENT ? message.event && message.event.screen
      : null;
  return screen ? { mode: screen.mode || "none", poll_id: screen.poll_id ?? null } : null;
}

/**
 * The poll as a studio view shows it: without results yet (just launched, or reset) with zero answers rather than
 * as an empty panel, and a word cloud cut to its `topWords` most named words.
 */
export function studioPoll(poll, { topWords }) {
  if (poll.results) {
    if (poll.kind !== "words") return poll;
    return { ...poll, results: { ...poll.results, words: (poll.results.words || []).slice(0, topWords) } };
  }
  const empty = { total: 0 };
  if (poll.kind === "rating") {
    empty.mean = null;
    empty.values = Array.from({ length: poll.scale_max }, (_, i) => ({ value: i + 1, count: 0, percent: 0 }));
  } else if (poll.kind === "words") {
    empty.words = [];
  } else {
    empty.options = poll.options.map((option) => ({ id: option.id, count: 0, percent: 0 }));
  }
  return { ...poll, results: empty };
}
