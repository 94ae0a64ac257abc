-- PostgreSQL twin of ../0001_initial.sql: the same tables, in PostgreSQL's types.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
