-- The analytics views: what the report and the Grafana dashboards read. Same names and
-- columns on every engine. Written once, here, in SQL that DuckDB and PostgreSQL both run;
-- redshift/021_analytics_views.sql is generated from this file by sqlglot
-- (uv run python -m cafe_etl.warehouse.dialects), never edited by hand.
-- Rules kept for Redshift: no generate_series (the calendar table instead), no FILTER
-- clause, no aggregate window with ORDER BY, dates moved by INTERVAL literals
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_interval_literals.html), medians by
-- PERCENTILE_CONT ... WITHIN GROUP as an aggregate, one ordering per query level
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_PERCENTILE_CONT.html).
-- Counts are BIGINT and money NUMERIC on every engine; a mean of money is computed in
-- whole pennies (half a penny rounds up) so no engine goes through a float.
-- weekday is 1 = Monday .. 7 = Sunday; week_start is that week's Monday.

CREATE VIEW branch_daily_sales AS
SELECT t.business_date, t.branch_id, b.branch_name, b.region,
       CAST(COUNT(*) AS BIGINT) AS transactions,
       CAST(SUM(t.total_amount) AS NUMERIC(14, 2)) AS revenue
FROM transactions t
JOIN branches b ON b.branch_id = t.branch_id
GROUP BY t.business_date, t.branch_id, b.branch_name, b.region;

CREATE VIEW region_daily_sales AS
SELECT business_date, region,
       CAST(COUNT(*) AS BIGINT) AS branches,
       CAST(SUM(transactions) AS BIGINT) AS transactions,
       CAST(SUM(revenue) AS NUMERIC(14, 2)) AS revenue
FROM branch_daily_sales
GROUP BY business_date, region;

CREATE VIEW basket_averages AS
SELECT s.business_date, s.branch_id, s.branch_name, s.region, s.transactions, q.items, s.revenue,
       CAST(CAST(FLOOR((2 * s.pennies + s.transactions) / (2 * s.transactions)) AS NUMERIC(14, 0)) * 0.01 AS NUMERIC(10, 2)) AS avg_basket_value,
       CAST(ROUND(CAST(q.items AS NUMERIC(14, 2)) / s.transactions, 2) AS NUMERIC(8, 2)) AS avg_basket_items
FROM (
    SELECT t.business_date, t.branch_id, b.branch_name, b.region,
           CAST(COUNT(*) AS BIGINT) AS transactions,
           CAST(SUM(t.total_amount) AS NUMERIC(14, 2)) AS revenue,
           CAST(SUM(t.total_amount) * 100 AS BIGINT) AS pennies
    FROM transactions t
    JOIN branches b ON b.branch_id = t.branch_id
    GROUP BY t.business_date, t.branch_id, b.branch_name, b.region
) s
JOIN (
    SELECT t.business_date, t.branch_id, CAST(SUM(i.quantity) AS BIGINT) AS items
    FROM transactions t
    JOIN basket_items i ON i.transaction_id = t.transaction_id
    GROUP BY t.business_date, t.branch_id
) q ON q.business_date = s.business_date AND q.branch_id = s.branch_id;

-- Grouped by keys first, names joined after: the big join groups on three integers.
CREATE VIEW product_daily_sales AS
SELECT s.business_date, s.branch_id, b.branch_name, b.region,
       s.product_id, p.product_name, p.size, p.flavour, s.quantity, s.revenue
FROM (
    SELECT t.business_date, t.branch_id, i.product_id,
           CAST(SUM(i.quantity) AS BIGINT) AS quantity,
           CAST(SUM(i.unit_price * i.quantity) AS NUMERIC(14, 2)) AS revenue
    FROM basket_items i
    JOIN transactions t ON t.transaction_id = i.transaction_id
    GROUP BY t.business_date, t.branch_id, i.product_id
) s
JOIN branches b ON b.branch_id = s.branch_id
JOIN products p ON p.product_id = s.product_id;

CREATE VIEW product_region_daily_sales AS
SELECT business_date, region, product_id, product_name, size, flavour,
       CAST(COUNT(*) AS BIGINT) AS branches,
       CAST(SUM(quantity) AS BIGINT) AS quantity,
       CAST(SUM(revenue) AS NUMERIC(14, 2)) AS revenue
FROM product_daily_sales
GROUP BY business_date, region, product_id, product_name, size, flavour;

CREATE VIEW busy_hours AS
SELECT t.business_date, t.branch_id, b.branch_name, b.region,
       CAST((CAST(EXTRACT(DOW FROM t.business_date) AS INTEGER) + 6) % 7 + 1 AS INTEGER) AS weekday,
       CAST(EXTRACT(HOUR FROM t.occurred_at) AS INTEGER) AS hour,
       CAST(COUNT(*) AS BIGINT) AS transactions,
       CAST(SUM(t.total_amount) AS NUMERIC(14, 2)) AS revenue
FROM transactions t
JOIN branches b ON b.branch_id = t.branch_id
GROUP BY t.business_date, t.branch_id, b.branch_name, b.region,
         EXTRACT(DOW FROM t.business_date), EXTRACT(HOUR FROM t.occurred_at);

CREATE VIEW payment_mix AS
SELECT t.business_date, t.branch_id, b.branch_name, b.region, t.payment_method,
       CAST(COUNT(*) AS BIGINT) AS transactions,
       CAST(SUM(t.total_amount) AS NUMERIC(14, 2)) AS revenue
FROM transactions t
JOIN branches b ON b.branch_id = t.branch_id
GROUP BY t.business_date, t.branch_id, b.branch_name, b.region, t.payment_method;

-- Like for like: a branch-day counts only when the same branch traded seven days earlier,
-- so a missing file, a new branch or a closed one is never a rise or a fall.
-- (daily: the day's sales once, read twice; an engine computes a CTE used twice once)
CREATE VIEW branch_week_change AS
WITH daily AS (
    SELECT business_date, branch_id, branch_name, region, revenue FROM branch_daily_sales
)
SELECT w.*,
       ROW_NUMBER() OVER (PARTITION BY w.week_start ORDER BY w.change_pct DESC, w.branch_name) AS rise_rank,
       ROW_NUMBER() OVER (PARTITION BY w.week_start ORDER BY w.change_pct ASC, w.branch_name) AS fall_rank
FROM (
    SELECT CAST(DATE_TRUNC('week', cur.business_date) AS DATE) AS week_start,
           cur.branch_id, cur.branch_name, cur.region,
           CAST(COUNT(*) AS BIGINT) AS days_compared,
           CAST(SUM(cur.revenue) AS NUMERIC(14, 2)) AS revenue,
           CAST(SUM(prev.revenue) AS NUMERIC(14, 2)) AS previous_revenue,
           CAST(ROUND(100 * (SUM(cur.revenue) - SUM(prev.revenue)) / SUM(prev.revenue), 1) AS NUMERIC(8, 1)) AS change_pct
    FROM daily cur
    JOIN daily prev
      ON prev.branch_id = cur.branch_id
     AND prev.business_date = CAST(cur.business_date - INTERVAL '7 days' AS DATE)
    GROUP BY CAST(DATE_TRUNC('week', cur.business_date) AS DATE), cur.branch_id, cur.branch_name, cur.region
    HAVING SUM(prev.revenue) > 0
) w;

CREATE VIEW region_week_change AS
SELECT week_start, region,
       CAST(COUNT(*) AS BIGINT) AS branches,
       CAST(SUM(days_compared) AS BIGINT) AS days_compared,
       CAST(SUM(revenue) AS NUMERIC(14, 2)) AS revenue,
       CAST(SUM(previous_revenue) AS NUMERIC(14, 2)) AS previous_revenue,
       CAST(ROUND(100 * (SUM(revenue) - SUM(previous_revenue)) / SUM(previous_revenue), 1) AS NUMERIC(8, 1)) AS change_pct
FROM branch_week_change
GROUP BY week_start, region;

-- New: first sold after the warehouse's first day of sales; discontinued: last sold before
-- its last day (a product both launched and dropped is new).
CREATE VIEW product_lifecycle AS
SELECT p.product_id, p.product_name, p.size, p.flavour,
       s.first_sold, s.last_sold, s.days_sold, s.branches, s.quantity,
       CASE WHEN s.first_sold > span.first_day THEN 'new'
            WHEN s.last_sold < span.last_day THEN 'discontinued'
            ELSE 'regular' END AS status
FROM (
    SELECT product_id, MIN(business_date) AS first_sold, MAX(business_date) AS last_sold,
           CAST(COUNT(DISTINCT business_date) AS BIGINT) AS days_sold,
           CAST(COUNT(DISTINCT branch_id) AS BIGINT) AS branches,
           CAST(SUM(quantity) AS BIGINT) AS quantity
    FROM (
        SELECT t.business_date, t.branch_id, i.product_id, SUM(i.quantity) AS quantity
        FROM basket_items i
        JOIN transactions t ON t.transaction_id = i.transaction_id
        GROUP BY t.business_date, t.branch_id, i.product_id
    ) d
    GROUP BY product_id
) s
JOIN products p ON p.product_id = s.product_id
CROSS JOIN (SELECT MIN(business_date) AS first_day, MAX(business_date) AS last_day FROM transactions) span;

-- A missing report: a day within the loaded period on which an open branch sent no file,
-- though it sent one on at least 3 of the 4 same weekdays before.
CREATE VIEW missing_reports AS
SELECT c.business_date, c.branch_id, b.branch_name, b.region,
       CAST(COUNT(*) AS BIGINT) AS usual_weekdays_with_file
FROM (
    SELECT br.branch_id, d.day AS business_date
    FROM (SELECT DISTINCT branch_id FROM loaded_files
          WHERE status = 'loaded' AND branch_id IS NOT NULL AND business_date IS NOT NULL) br
    CROSS JOIN (SELECT cal.day FROM calendar cal
                JOIN (SELECT MIN(business_date) AS first_day, MAX(business_date) AS last_day
                      FROM loaded_files WHERE status = 'loaded') span
                  ON cal.day BETWEEN span.first_day AND span.last_day) d
    LEFT JOIN loaded_files f
      ON f.status = 'loaded' AND f.branch_id = br.branch_id AND f.business_date = d.day
    WHERE f.file_id IS NULL
) c
JOIN (SELECT DISTINCT branch_id, business_date FROM loaded_files WHERE status = 'loaded') h
  ON h.branch_id = c.branch_id
 AND h.business_date IN (CAST(c.business_date - INTERVAL '7 days' AS DATE),
                         CAST(c.business_date - INTERVAL '14 days' AS DATE),
                         CAST(c.business_date - INTERVAL '21 days' AS DATE),
                         CAST(c.business_date - INTERVAL '28 days' AS DATE))
JOIN branches b ON b.branch_id = c.branch_id
LEFT JOIN branch_dates bd ON bd.branch_id = c.branch_id
WHERE (bd.opened_on IS NULL OR bd.opened_on <= c.business_date)
  AND (bd.closed_on IS NULL OR c.business_date < bd.closed_on)
GROUP BY c.business_date, c.branch_id, b.branch_name, b.region
HAVING COUNT(*) >= 3;

-- An unusual day: sales beyond 3 robust standard deviations (1.4826 x the median absolute
-- deviation) from the median of the branch's last 8 same weekdays, at least 4 of them traded,
-- and at least 20 % away from it (a few pounds off a very steady branch is not news).
CREATE VIEW unusual_days AS
WITH daily AS (
    SELECT business_date, branch_id, branch_name, region, revenue FROM branch_daily_sales
),
history AS (
    SELECT cur.branch_id, cur.business_date, cur.revenue, prev.revenue AS past_revenue
    FROM daily cur
    JOIN daily prev
      ON prev.branch_id = cur.branch_id
     AND prev.business_date < cur.business_date
     AND prev.business_date >= CAST(cur.business_date - INTERVAL '56 days' AS DATE)
     AND EXTRACT(DOW FROM prev.business_date) = EXTRACT(DOW FROM cur.business_date)
),
usual AS (
    SELECT branch_id, business_date, revenue, COUNT(*) AS weeks,
           PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY past_revenue) AS usual
    FROM history
    GROUP BY branch_id, business_date, revenue
    HAVING COUNT(*) >= 4
),
spread AS (
    SELECT u.branch_id, u.business_date, u.revenue, u.usual, u.weeks,
           PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY ABS(h.past_revenue - u.usual)) AS mad
    FROM usual u
    JOIN history h ON h.branch_id = u.branch_id AND h.business_date = u.business_date
    GROUP BY u.branch_id, u.business_date, u.revenue, u.usual, u.weeks
)
SELECT m.business_date, m.branch_id, d.branch_name, d.region, m.revenue,
       CAST(m.usual AS NUMERIC(14, 2)) AS usual_revenue,
       CAST(m.weeks AS BIGINT) AS weeks_compared,
       CAST(ROUND(CAST((m.revenue - m.usual) / (1.4826 * m.mad) AS NUMERIC(12, 4)), 1) AS NUMERIC(8, 1)) AS deviation,
       CASE WHEN m.revenue > m.usual THEN 'high' ELSE 'low' END AS direction
FROM spread m
JOIN daily d ON d.branch_id = m.branch_id AND d.business_date = m.business_date
WHERE m.mad > 0 AND ABS(m.revenue - m.usual) > 3 * 1.4826 * m.mad
  AND ABS(m.revenue - m.usual) >= 0.2 * m.usual;

-- A repeat visit: a sale whose customer token the same branch has seen before (cards only,
-- and only with a token key configured): every identified sale but each token's first at
-- the branch (a grouping, not a sort of every sale).
CREATE VIEW repeat_visits AS
SELECT v.business_date, v.branch_id, b.branch_name, b.region,
       CAST(v.identified AS BIGINT) AS identified_transactions,
       CAST(v.identified - COALESCE(f.first_visits, 0) AS BIGINT) AS repeat_transactions
FROM (
    SELECT business_date, branch_id, COUNT(*) AS identified
    FROM transactions
    WHERE customer_token IS NOT NULL
    GROUP BY business_date, branch_id
) v
LEFT JOIN (
    SELECT CAST(first_seen AS DATE) AS business_date, branch_id, COUNT(*) AS first_visits
    FROM (
        SELECT branch_id, customer_token, MIN(occurred_at) AS first_seen
        FROM transactions
        WHERE customer_token IS NOT NULL
        GROUP BY branch_id, customer_token
    ) x
    GROUP BY CAST(first_seen AS DATE), branch_id
) f ON f.business_date = v.business_date AND f.branch_id = v.branch_id
JOIN branches b ON b.branch_id = v.branch_id;

-- Rejected rows of the files in force, by the file's branch and day (a file whose rows name
-- several branches or days has none: Unknown, on the day it was loaded).
CREATE VIEW rejected_rows_daily AS
SELECT COALESCE(f.business_date, CAST(f.loaded_at AS DATE)) AS business_date, f.branch_id,
       COALESCE(b.branch_name, 'Unknown') AS branch_name,
       COALESCE(b.region, 'Unassigned') AS region,
       r.reason,
       CAST(COUNT(*) AS BIGINT) AS rejected_rows
FROM rejected_rows r
JOIN loaded_files f ON f.file_id = r.file_id AND f.status = 'loaded'
LEFT JOIN branches b ON b.branch_id = f.branch_id
GROUP BY COALESCE(f.business_date, CAST(f.loaded_at AS DATE)), f.branch_id,
         COALESCE(b.branch_name, 'Unknown'), COALESCE(b.region, 'Unassigned'), r.reason;
