-- PostgreSQL twin of ../0006_votes.sql: "This helped" / "Not for me" counters per server,
-- UTC day, technique and verdict, never who voted.
CREATE TABLE vote_counts (
    guild_id  BIGINT  NOT NULL CHECK (guild_id > 0),
    day       TEXT    NOT NULL CHECK (
        day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND to_char(day::date, 'YYYY-MM-DD') = day
    ),
    technique TEXT    NOT NULL CHECK (length(technique) BETWEEN 1 AND 64),
    verdict   TEXT    NOT NULL CHECK (verdict IN ('helped', 'not')),
    count     INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (guild_id, day, technique, verdict)
);

CREATE INDEX vote_counts_by_day ON vote_counts (day);
