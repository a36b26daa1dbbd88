// Live polls shared by the viewer and moderator pages: a store kept in step with the live messages, the labels,
// and short texts of a ballot. The results view is in poll-results.js, the answer controls in poll-ballot.js.
import { t } from "../lib/i18n.js";
import { MessageType } from "../lib/protocol.js";

export const KIND_LABELS = Object.freeze({
  single: t("Einfachauswahl"),
  multiple: t("Mehrfachauswahl"),
  rating: t("Bewertung"),
  words: t("Wortwolke"),
});

export const STATE_LABELS = Object.freeze({ draft: t("Entwurf"), open: t("Läuft"), closed: t("Beendet") });

export const VISIBILITY_LABELS = Object.freeze({ live: t("live"), after_close: t("nach dem Ende"), never: t("nie") });

export const CHOICE_KINDS = Object.freeze(["single", "multiple"]);

export class PollStore {
  constructor({ staff = false } = {}) {
    this.staff = staff;
    this.polls = new Map();
  }

  /** Applies a live message; true when it was about polls (a snapshot is about everything). */
  apply(message) {
    switch (message.type) {
      case MessageType.SNAPSHOT:
        this.polls = new Map();
        for (const poll of message.polls || []) this.upsert(poll);
        return true;
      case MessageType.POLL:
        this.upsert(message.poll);
        return true;
      case MessageType.POLL_DELETED:
        this.polls.delete(message.poll_id);
        return true;
      case MessageType.POLL_RESULTS: {
        const poll = this.polls.get(message.poll_id);
        if (poll) poll.results = message.results;
        return true;
      }
      default:
        return false;
    }
  }

  upsert(poll) {
    // Viewers never see drafts; a poll that goes back to draft was reset, and its ballots with it.
    if (!this.staff && poll.state === "draft") {
      this.polls.delete(poll.id);
      return;
    }
    const known = this.polls.get(poll.id);
    // An HTTP answer can arrive after the live message of a later change; the older state must not win.
    if (known && typeof poll.version === "number" && poll.version < known.version) return;
    const next = { ...poll };
    // A logged change is the same for every viewer, so it carries no `my_ballot`: keep the one we know.
    if (!("my_ballot" in poll)) next.my_ballot = (known && known.my_ballot) || null;
    if (!("results" in poll)) {
      // Viewers: no results in the message means they may not see them (any more). Moderators always may;
      // their poll_results message follows.
      next.results = this.staff && known && poll.state !== "draft" ? known.results || null : null;
    }
    this.polls.set(poll.id, next);
  }

  /** Moves a poll to 1-based `position` and renumbers the others, as the server does (moderators see all). */
  move(pollId, position) {
    const order = this.list();
    const index = order.findIndex((poll) => poll.id === pollId);
    if (index < 0) return;
    const [poll] = order.splice(index, 1);
    order.splice(Math.min(Math.max(position, 1), order.length + 1) - 1, 0, poll);
    order.forEach((item, i) => {
      item.position = i + 1;
    });
  }

  setBallot(pollId, ballot) {
    const poll = this.polls.get(pollId);
    if (poll) poll.my_ballot = ballot;
  }

  get(pollId) {
    return this.polls.get(pollId) || null;
  }

  list() {
    return [...this.polls.values()].sort((a, b) => a.position - b.position || a.id - b.id);
  }
}

/** Short text of a ballot: "Online-Terminvergabe, Bürgerbüro", "4 von 5" or „wlan“. */
export function describeBallot(poll, ballot) {
  if (!ballot) return "";
  if (ballot.options) {
    return poll.options.filter((o) => ballot.options.includes(o.id)).map((o) => o.label).join(", ");
  }
  if (ballot.value !== undefined && ballot.value !== null) {
    return t("{value} von {max}", { value: ballot.value, max: poll.scale_max });
  }
  return (ballot.words || [ballot.text]).map((word) => `„${word}“`).join(", ");
}

export function scaleEnds(poll) {
  return { low: t("1 = gar nicht"), high: t("{max} = sehr", { max: poll.scale_max }) };
}
