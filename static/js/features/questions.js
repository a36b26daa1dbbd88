// Question state shared by the viewer and moderator pages: a map kept in step with the live messages.
import { t } from "../lib/i18n.js";
import { MessageType, PUBLIC_STATUSES } from "../lib/protocol.js";

export const STATUS_LABELS = Object.freeze({
  pending: t("Wartet auf Freigabe"),
  approved: t("Freigegeben"),
  answered: t("Beantwortet"),
  rejected: t("Nicht angenommen"),
});

export class QuestionStore {
  constructor({ staff = false } = {}) {
    this.staff = staff;
    this.questions = new Map();
    this.voted = new Set();
    this.onAirId = null;
    this.event = null;
  }

  apply(message) {
    switch (message.type) {
      case MessageType.SNAPSHOT:
        this.event = message.event;
        this.questions = new Map(message.questions.map((q) => [q.id, q]));
        this.voted = new Set(message.voted || []);
        this.onAirId = message.event.on_air_question_id;
        return true;
      case MessageType.QUESTION:
        this.upsert(message.question);
        return true;
      case MessageType.VOTES: {
        const question = this.questions.get(message.question_id);
        if (question) question.votes = message.votes;
        return true;
      }
      case MessageType.EVENT:
        this.event = message.event;
        return true;
      case MessageType.ON_AIR:
        this.onAirId = message.question_id;
        if (message.question) this.upsert(message.question);
        return true;
      default:
        return false;
    }
  }

  upsert(question, { mine = false } = {}) {
    const known = this.questions.get(question.id);
    // A viewer hears of a non-public question it did not know for one reason only: the viewer asked it. A known
    // public question that turns non-public was taken back from everyone, and goes.
    const isMine = mine || Boolean(known && known.mine)
      || (!this.staff && !known && !PUBLIC_STATUSES.includes(question.status));
    if (!this.staff && !isMine && !PUBLIC_STATUSES.includes(question.status)) {
      this.questions.delete(question.id);
      return;
    }
    this.questions.set(question.id, { ...known, ...question, mine: isMine });
  }

  list({ statuses, sort = "newest", mineOnly = false } = {}) {
    let items = [...this.questions.values()];
    if (statuses) items = items.filter((q) => statuses.includes(q.status));
    if (mineOnly) items = items.filter((q) => q.mine);
    if (sort === "popular") items.sort((a, b) => b.votes - a.votes || a.id - b.id);
    else items.sort((a, b) => b.id - a.id);
    return items;
  }

  get onAir() {
    return this.onAirId === null ? null : this.questions.get(this.onAirId) || null;
  }
}

/** "an Malu Dreyer" when the question was addressed to one panelist, else null (the whole panel). */
export function addressee(event, question) {
  if (!question || question.panelist_id === null || question.panelist_id === undefined) return null;
  const panelist = ((event && event.panelists) || []).find((p) => p.id === question.panelist_id);
  return panelist ? t("an {name}", { name: panelist.name }) : null;
}

/** The line under a question on the studio screens: "Frage von Jana · an Malu Dreyer". */
export function askerLine(event, question) {
  const from = question.name ? t("Frage von {name}", { name: question.name }) : t("Anonym");
  const to = addressee(event, question);
  return to ? `${from} · ${to}` : from;
}
