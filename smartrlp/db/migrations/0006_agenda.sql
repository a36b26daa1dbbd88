-- The agenda item that is on now, as the moderator marks it, and since when: live events drift from the
-- planned times, so the presenter screen counts the time left from the moment the item really began.
ALTER TABLE events ADD COLUMN current_agenda_item_id INTEGER REFERENCES agenda_items (id) ON DELETE SET NULL;
ALTER TABLE events ADD COLUMN current_agenda_started_at TEXT;
