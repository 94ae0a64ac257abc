-- Anonymous check-ins (SAFETY.md §3). A row holds a random id, the server, the UTC day,
-- the mood and feeling ids from the vocabulary: nothing that points to a member, no time
-- finer than the day, no free text.
--
-- WITHOUT ROWID with a random 16-byte key: a rowid (or an autoincrement id) would grow
-- with every insert and so record in which order members checked in; here rows are
-- stored in the order of their random ids.
--
-- Feelings sit in the row itself (sorted ids, single spaces, at most three) rather than in
-- a second table: a check-in is then one INSERT, and /summary reads one covering index.
CREATE TABLE checkins (
    id       BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    guild_id INTEGER NOT NULL CHECK (guild_id > 0),
    day      TEXT    NOT NULL CHECK (
        day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND date(day) IS day
    ),
    mood     INTEGER NOT NULL CHECK (mood BETWEEN 1 AND 5),
    feelings TEXT    NOT NULL DEFAULT '' CHECK (
        length(feelings) <= 200
        AND feelings NOT GLOB '*[^a-z0-9 -]*'
        AND feelings NOT GLOB '* '
        AND feelings NOT GLOB ' *'
        AND feelings NOT GLOB '*  *'
        AND length(feelings) - length(replace(feelings, ' ', '')) <= 2
    )
) STRICT, WITHOUT ROWID;

-- /summary: one server's days in a range, grouped by day and mood, or by feelings, read
-- from this index alone.
CREATE INDEX checkins_by_server_day ON checkins (guild_id, day, mood, feelings);

-- The daily retention sweep deletes by day across every server.
CREATE INDEX checkins_by_day ON checkins (day);
