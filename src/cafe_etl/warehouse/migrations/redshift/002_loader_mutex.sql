-- One row that loaders lock to take turns. LOCK takes an ACCESS EXCLUSIVE lock that makes
-- every reader of the locked table wait (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html),
-- so loaders lock this table, which nothing reads, and never loaded_files, which status,
-- Grafana and analysts read.
CREATE TABLE IF NOT EXISTS etl_loader_mutex (
    holder  INTEGER NOT NULL
) DISTSTYLE ALL;

INSERT INTO etl_loader_mutex VALUES (1);
