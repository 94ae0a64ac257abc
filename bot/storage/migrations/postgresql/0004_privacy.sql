-- PostgreSQL twin of ../0004_privacy.sql (SAFETY.md §3 and §4).
CREATE TABLE day_keys (
    day TEXT  NOT NULL CHECK (
        day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND to_char(day::date, 'YYYY-MM-DD') = day
    ),
    key BYTEA NOT NULL CHECK (length(key) = 32),
    CONSTRAINT day_keys_pkey PRIMARY KEY (day)
);

CREATE TABLE day_claims (
    day   TEXT  NOT NULL CHECK (
        day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND to_char(day::date, 'YYYY-MM-DD') = day
    ),
    topic TEXT  NOT NULL CHECK (topic ~ '^[a-z]' AND length(topic) <= 40),
    tag   BYTEA NOT NULL CHECK (length(tag) = 32),
    CONSTRAINT day_claims_pkey PRIMARY KEY (day, topic, tag)
);

CREATE TABLE published_periods (
    guild_id     BIGINT NOT NULL CHECK (guild_id > 0),
    series       TEXT   NOT NULL CHECK (series ~ '^[a-z]' AND length(series) <= 40),
    period_start TEXT   NOT NULL CHECK (
        period_start ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
        AND to_char(period_start::date, 'YYYY-MM-DD') = period_start
    ),
    PRIMARY KEY (guild_id, series, period_start)
);

CREATE TABLE published_cells (
    guild_id     BIGINT  NOT NULL,
    series       TEXT    NOT NULL,
    period_start TEXT    NOT NULL,
    cell         TEXT    NOT NULL CHECK (length(cell) BETWEEN 1 AND 60),
    value        INTEGER NOT NULL,
    PRIMARY KEY (guild_id, series, period_start, cell),
    FOREIGN KEY (guild_id, series, period_start)
        REFERENCES published_periods (guild_id, series, period_start) ON DELETE CASCADE
);

CREATE INDEX published_periods_by_start ON published_periods (period_start);

CREATE TABLE absent_guilds (
    guild_id BIGINT NOT NULL PRIMARY KEY CHECK (guild_id > 0),
    since    TEXT   NOT NULL
);
