-- Event administration: how questions are moderated, whether askers may give a name, and archiving.
-- 'approve': every question waits for a moderator (the default); 'post': questions appear at once and
-- moderators take down what does not belong.
ALTER TABLE events ADD COLUMN moderation_mode TEXT NOT NULL DEFAULT 'approve'
    CHECK (moderation_mode IN ('approve', 'post'));
ALTER TABLE events ADD COLUMN names_allowed INTEGER NOT NULL DEFAULT 1;
-- Archived events leave the home page and the admin's active list, but keep everything they hold.
ALTER TABLE events ADD COLUMN archived_at TEXT;
