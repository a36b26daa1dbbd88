-- The moderator console under live pressure: undo that never jams, bulk actions, on air means on screen, and
-- word clouds with up to three words per device.

-- Actions taken together (bulk approve or reject) share the id of the batch's first row: they are one entry in
-- the activity list and one undo. NULL: a single action.
ALTER TABLE moderation_actions ADD COLUMN batch_id INTEGER;
-- Who undid it (the moderator themselves, or a colleague in the activity list).
ALTER TABLE moderation_actions ADD COLUMN undone_by INTEGER REFERENCES moderators(id) ON DELETE SET NULL;
CREATE INDEX moderation_actions_by_event ON moderation_actions(event_id, id);

-- A poll or the join slide the moderator pinned to the screen stays there when a question goes on air;
-- otherwise putting a question on air switches the screen to it.
ALTER TABLE events ADD COLUMN screen_pinned INTEGER NOT NULL DEFAULT 0;

-- How many words one device may give to a word cloud (1 to 3).
ALTER TABLE polls ADD COLUMN max_words INTEGER NOT NULL DEFAULT 1
    CHECK (max_words BETWEEN 1 AND 3);
