// What a viewer is told when the server turns down a question, a vote, a report or an answer to a poll.
import { t } from "../lib/i18n.js";

export const ERROR_TEXTS = Object.freeze({
  questions_closed: t("Zurzeit werden keine Fragen angenommen."),
  not_votable: t("Diese Frage kann nicht mehr unterstützt werden."),
  body_too_large: t("Der Text ist zu lang."),
  rate_limited: t("Bitte warten Sie einen Moment, bevor Sie die nächste Frage stellen."),
  network: t("Keine Verbindung zum Server. Bitte versuchen Sie es gleich noch einmal."),
  storage_unavailable: t("Gerade kann nichts gespeichert werden. Bitte versuchen Sie es in einer Minute noch einmal."),
});
