-- "This helped" / "Not for me" on technique cards (SAFETY.md §3): a counter per server,
-- UTC day, technique and verdict, never who voted. Counters rather than rows, so the file
-- holds no order of arrival. Deleted under `privacy.retention_days` and with the server.
CREATE TABLE vote_counts (
    guild_id  INTEGER NOT NULL CHECK (guild_id > 0),
    day       TEXT    NOT NULL CHECK (date(day) IS day),
    technique TEXT    NOT NULL CHECK (length(technique) BETWEEN 1 AND 64),
    verdict   TEXT    NOT NULL CHECK (verdict IN ('helped', 'not')),
    count     INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (guild_id, day, technique, verdict)
) STRICT, WITHOUT ROWID;

CREATE INDEX vote_counts_by_day ON vote_counts (day);
