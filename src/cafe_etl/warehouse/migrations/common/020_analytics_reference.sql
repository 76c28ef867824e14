-- Reference tables the analytics views join.
-- calendar: every day of 2000-2099 (the years a till timestamp may hold), so a view can
-- list days on which nothing arrived; Redshift's compute nodes cannot run generate_series,
-- so every engine uses this table (built here from digits, no engine function).
-- branch_dates: when a branch opened and closed (the user's branch file, CAFE_ETL_BRANCHES_FILE):
-- a closed branch is not reported missing, a new one is not compared with weeks it did not trade.

CREATE TABLE calendar (
    day  DATE PRIMARY KEY
);

INSERT INTO calendar (day)
SELECT CAST(DATE '2000-01-01' + CAST(d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n + 10000 * d5.n AS INTEGER) AS DATE)
FROM (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
      UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d1
CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
      UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d2
CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
      UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d3
CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
      UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) d4
CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) d5
WHERE d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n + 10000 * d5.n < 36525;

CREATE TABLE branch_dates (
    branch_id  BIGINT PRIMARY KEY,
    opened_on  DATE,
    closed_on  DATE
);
