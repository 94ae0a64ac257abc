-- PostgreSQL twin of ../0005_server_settings.sql: each server's own settings.
CREATE TABLE server_settings (
    guild_id             BIGINT  NOT NULL PRIMARY KEY CHECK (guild_id > 0),
    reach_out_channel_id BIGINT  CHECK (reach_out_channel_id > 0),
    region               TEXT    CHECK (region ~ '^[A-Z][A-Z]$' OR region = 'INTL'),
    timezone             TEXT    CHECK (length(timezone) BETWEEN 1 AND 64),
    min_group_size       INTEGER CHECK (min_group_size >= 5),
    roles_chosen         INTEGER NOT NULL DEFAULT 0 CHECK (roles_chosen IN (0, 1)),
    first_run_noted      INTEGER NOT NULL DEFAULT 0 CHECK (first_run_noted IN (0, 1))
);

CREATE TABLE server_moderator_roles (
    guild_id BIGINT NOT NULL REFERENCES server_settings (guild_id) ON DELETE CASCADE,
    role_id  BIGINT NOT NULL CHECK (role_id > 0),
    PRIMARY KEY (guild_id, role_id)
);

ALTER TABLE published_periods ADD COLUMN min_group_size INTEGER CHECK (min_group_size >= 5);
