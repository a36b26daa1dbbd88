-- Abuse: extra filter words per event, blocked devices, reports of questions, and why a question was held.

-- Why a question waits for a moderator although it would have appeared at once: the filter words it matched
-- (a JSON list) and/or the asking device being blocked. Shown to moderators only.
ALTER TABLE questions ADD COLUMN held_words TEXT;
ALTER TABLE questions ADD COLUMN held_device INTEGER NOT NULL DEFAULT 0;

-- A vote or ballot from a blocked device is kept (its sender sees it as given) but not counted.
ALTER TABLE question_votes ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
ALTER TABLE poll_ballots ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
ALTER TABLE poll_ballot_options ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;

-- Words and phrases the moderators of one event add to the shipped lists.
CREATE TABLE event_words (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    word TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (event_id, word)
) WITHOUT ROWID;

-- Devices whose new questions are held and whose votes are not counted in one event. The retention purge
-- deletes these rows with the other device ids.
CREATE TABLE device_blocks (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    moderator_id INTEGER REFERENCES moderators(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (event_id, device_id)
) WITHOUT ROWID;

-- One report per device and question; a moderator dismissing the reports keeps the rows (so the same device
-- cannot report again) but stops counting them.
CREATE TABLE question_reports (
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    reason TEXT CHECK (reason IN ('offensive', 'spam', 'misleading', 'other')),
    created_at TEXT NOT NULL,
    dismissed_at TEXT,
    PRIMARY KEY (question_id, device_id)
) WITHOUT ROWID;
