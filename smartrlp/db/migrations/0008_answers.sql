-- After the event: written answers to questions the panel did not reach, and where the recording is.
ALTER TABLE questions ADD COLUMN answer TEXT;
ALTER TABLE events ADD COLUMN recording_url TEXT;
