-- GENERATED from common/021_analytics_views.sql by `uv run python -m cafe_etl.warehouse.dialects`:
-- do not edit; change the common file and run the command again.

CREATE VIEW branch_daily_sales AS
SELECT
  t.business_date,
  t.branch_id,
  b.branch_name,
  b.region,
  CAST(COUNT(*) AS BIGINT) AS transactions,
  CAST(SUM(t.total_amount) AS DECIMAL(14, 2)) AS revenue
FROM transactions AS t
JOIN branches AS b
  ON b.branch_id = t.branch_id
GROUP BY
  t.business_date,
  t.branch_id,
  b.branch_name,
  b.region;

CREATE VIEW region_daily_sales AS
SELECT
  business_date,
  region,
  CAST(COUNT(*) AS BIGINT) AS branches,
  CAST(SUM(transactions) AS BIGINT) AS transactions,
  CAST(SUM(revenue) AS DECIMAL(14, 2)) AS revenue
FROM branch_daily_sales
GROUP BY
  business_date,
  region;

CREATE VIEW basket_averages AS
SELECT
  s.business_date,
  s.branch_id,
  s.branch_name,
  s.region,
  s.transactions,
  q.items,
  s.revenue,
  CAST(CAST(FLOOR((
    2 * s.pennies + s.transactions
  ) / (
    2 * s.transactions
  )) AS DECIMAL(14, 0)) * 0.01 AS DECIMAL(10, 2)) AS avg_basket_value,
  CAST(ROUND(CAST(q.items AS DECIMAL(14, 2)) / s.transactions, 2) AS DECIMAL(8, 2)) AS avg_basket_items
FROM (
  SELECT
    t.business_date,
    t.branch_id,
    b.branch_name,
    b.region,
    CAST(COUNT(*) AS BIGINT) AS transactions,
    CAST(SUM(t.total_amount) AS DECIMAL(14, 2)) AS revenue,
    CAST(SUM(t.total_amount) * 100 AS BIGINT) AS pennies
  FROM transactions AS t
  JOIN branches AS b
    ON b.branch_id = t.branch_id
  GROUP BY
    t.business_date,
    t.branch_id,
    b.branch_name,
    b.region
) AS s
JOIN (
  SELECT
    t.business_date,
    t.branch_id,
    CAST(SUM(i.quantity) AS BIGINT) AS items
  FROM transactions AS t
  JOIN basket_items AS i
    ON i.transaction_id = t.transaction_id
  GROUP BY
    t.business_date,
    t.branch_id
) AS q
  ON q.business_date = s.business_date AND q.branch_id = s.branch_id;

CREATE VIEW product_daily_sales AS
SELECT
  s.business_date,
  s.branch_id,
  b.branch_name,
  b.region,
  s.product_id,
  p.product_name,
  p.size,
  p.flavour,
  s.quantity,
  s.revenue
FROM (
  SELECT
    t.business_date,
    t.branch_id,
    i.product_id,
    CAST(SUM(i.quantity) AS BIGINT) AS quantity,
    CAST(SUM(i.unit_price * i.quantity) AS DECIMAL(14, 2)) AS revenue
  FROM basket_items AS i
  JOIN transactions AS t
    ON t.transaction_id = i.transaction_id
  GROUP BY
    t.business_date,
    t.branch_id,
    i.product_id
) AS s
JOIN branches AS b
  ON b.branch_id = s.branch_id
JOIN products AS p
  ON p.product_id = s.product_id;

CREATE VIEW product_region_daily_sales AS
SELECT
  business_date,
  region,
  product_id,
  product_name,
  size,
  flavour,
  CAST(COUNT(*) AS BIGINT) AS branches,
  CAST(SUM(quantity) AS BIGINT) AS quantity,
  CAST(SUM(revenue) AS DECIMAL(14, 2)) AS revenue
FROM product_daily_sales
GROUP BY
  business_date,
  region,
  product_id,
  product_name,
  size,
  flavour;

CREATE VIEW busy_hours AS
SELECT
  t.business_date,
  t.branch_id,
  b.branch_name,
  b.region,
  CAST((
    CAST(EXTRACT(DOW FROM t.business_date) AS INTEGER) + 6
  ) % 7 + 1 AS INTEGER) AS weekday,
  CAST(EXTRACT(HOUR FROM t.occurred_at) AS INTEGER) AS hour,
  CAST(COUNT(*) AS BIGINT) AS transactions,
  CAST(SUM(t.total_amount) AS DECIMAL(14, 2)) AS revenue
FROM transactions AS t
JOIN branches AS b
  ON b.branch_id = t.branch_id
GROUP BY
  t.business_date,
  t.branch_id,
  b.branch_name,
  b.region,
  EXTRACT(DOW FROM t.business_date),
  EXTRACT(HOUR FROM t.occurred_at);

CREATE VIEW payment_mix AS
SELECT
  t.business_date,
  t.branch_id,
  b.branch_name,
  b.region,
  t.payment_method,
  CAST(COUNT(*) AS BIGINT) AS transactions,
  CAST(SUM(t.total_amount) AS DECIMAL(14, 2)) AS revenue
FROM transactions AS t
JOIN branches AS b
  ON b.branch_id = t.branch_id
GROUP BY
  t.business_date,
  t.branch_id,
  b.branch_name,
  b.region,
  t.payment_method;

CREATE VIEW branch_week_change AS
WITH daily AS (
  SELECT
    business_date,
    branch_id,
    branch_name,
    region,
    revenue
  FROM branch_daily_sales
)
SELECT
  w.*,
  ROW_NUMBER() OVER (PARTITION BY w.week_start ORDER BY w.change_pct DESC, w.branch_name) AS rise_rank,
  ROW_NUMBER() OVER (PARTITION BY w.week_start ORDER BY w.change_pct ASC, w.branch_name) AS fall_rank
FROM (
  SELECT
    CAST(DATE_TRUNC('WEEK', cur.business_date) AS DATE) AS week_start,
    cur.branch_id,
    cur.branch_name,
    cur.region,
    CAST(COUNT(*) AS BIGINT) AS days_compared,
    CAST(SUM(cur.revenue) AS DECIMAL(14, 2)) AS revenue,
    CAST(SUM(prev.revenue) AS DECIMAL(14, 2)) AS previous_revenue,
    CAST(ROUND(100 * (
      SUM(cur.revenue) - SUM(prev.revenue)
    ) / SUM(prev.revenue), 1) AS DECIMAL(8, 1)) AS change_pct
  FROM daily AS cur
  JOIN daily AS prev
    ON prev.branch_id = cur.branch_id
    AND prev.business_date = CAST(cur.business_date - INTERVAL '7 DAYS' AS DATE)
  GROUP BY
    CAST(DATE_TRUNC('WEEK', cur.business_date) AS DATE),
    cur.branch_id,
    cur.branch_name,
    cur.region
  HAVING
    SUM(prev.revenue) > 0
) AS w;

CREATE VIEW region_week_change AS
SELECT
  week_start,
  region,
  CAST(COUNT(*) AS BIGINT) AS branches,
  CAST(SUM(days_compared) AS BIGINT) AS days_compared,
  CAST(SUM(revenue) AS DECIMAL(14, 2)) AS revenue,
  CAST(SUM(previous_revenue) AS DECIMAL(14, 2)) AS previous_revenue,
  CAST(ROUND(100 * (
    SUM(revenue) - SUM(previous_revenue)
  ) / SUM(previous_revenue), 1) AS DECIMAL(8, 1)) AS change_pct
FROM branch_week_change
GROUP BY
  week_start,
  region;

CREATE VIEW product_lifecycle AS
SELECT
  p.product_id,
  p.product_name,
  p.size,
  p.flavour,
  s.first_sold,
  s.last_sold,
  s.days_sold,
  s.branches,
  s.quantity,
  CASE
    WHEN s.first_sold > span.first_day
    THEN 'new'
    WHEN s.last_sold < span.last_day
    THEN 'discontinued'
    ELSE 'regular'
  END AS status
FROM (
  SELECT
    product_id,
    MIN(business_date) AS first_sold,
    MAX(business_date) AS last_sold,
    CAST(COUNT(DISTINCT business_date) AS BIGINT) AS days_sold,
    CAST(COUNT(DISTINCT branch_id) AS BIGINT) AS branches,
    CAST(SUM(quantity) AS BIGINT) AS quantity
  FROM (
    SELECT
      t.business_date,
      t.branch_id,
      i.product_id,
      SUM(i.quantity) AS quantity
    FROM basket_items AS i
    JOIN transactions AS t
      ON t.transaction_id = i.transaction_id
    GROUP BY
      t.business_date,
      t.branch_id,
      i.product_id
  ) AS d
  GROUP BY
    product_id
) AS s
JOIN products AS p
  ON p.product_id = s.product_id
CROSS JOIN (
  SELECT
    MIN(business_date) AS first_day,
    MAX(business_date) AS last_day
  FROM transactions
) AS span;

CREATE VIEW missing_reports AS
SELECT
  c.business_date,
  c.branch_id,
  b.branch_name,
  b.region,
  CAST(COUNT(*) AS BIGINT) AS usual_weekdays_with_file
FROM (
  SELECT
    br.branch_id,
    d.day AS business_date
  FROM (
    SELECT DISTINCT
      branch_id
    FROM loaded_files
    WHERE
      status = 'loaded' AND branch_id IS NOT NULL AND business_date IS NOT NULL
  ) AS br
  CROSS JOIN (
    SELECT
      cal.day
    FROM calendar AS cal
    JOIN (
      SELECT
        MIN(business_date) AS first_day,
        MAX(business_date) AS last_day
      FROM loaded_files
      WHERE
        status = 'loaded'
    ) AS span
      ON cal.day BETWEEN span.first_day AND span.last_day
  ) AS d
  LEFT JOIN loaded_files AS f
    ON f.status = 'loaded' AND f.branch_id = br.branch_id AND f.business_date = d.day
  WHERE
    f.file_id IS NULL
) AS c
JOIN (
  SELECT DISTINCT
    branch_id,
    business_date
  FROM loaded_files
  WHERE
    status = 'loaded'
) AS h
  ON h.branch_id = c.branch_id
  AND h.business_date IN (
    CAST(c.business_date - INTERVAL '7 DAYS' AS DATE),
    CAST(c.business_date - INTERVAL '14 DAYS' AS DATE),
    CAST(c.business_date - INTERVAL '21 DAYS' AS DATE),
    CAST(c.business_date - INTERVAL '28 DAYS' AS DATE)
  )
JOIN branches AS b
  ON b.branch_id = c.branch_id
LEFT JOIN branch_dates AS bd
  ON bd.branch_id = c.branch_id
WHERE
  (
    bd.opened_on IS NULL OR bd.opened_on <= c.business_date
  )
  AND (
    bd.closed_on IS NULL OR c.business_date < bd.closed_on
  )
GROUP BY
  c.business_date,
  c.branch_id,
  b.branch_name,
  b.region
HAVING
  COUNT(*) >= 3;

CREATE VIEW unusual_days AS
WITH daily AS (
  SELECT
    business_date,
    branch_id,
    branch_name,
    region,
    revenue
  FROM branch_daily_sales
), history AS (
  SELECT
    cur.branch_id,
    cur.business_date,
    cur.revenue,
    prev.revenue AS past_revenue
  FROM daily AS cur
  JOIN daily AS prev
    ON prev.branch_id = cur.branch_id
    AND prev.business_date < cur.business_date
    AND prev.business_date >= CAST(cur.business_date - INTERVAL '56 DAYS' AS DATE)
    AND EXTRACT(DOW FROM prev.business_date) = EXTRACT(DOW FROM cur.business_date)
), usual AS (
  SELECT
    branch_id,
    business_date,
    revenue,
    COUNT(*) AS weeks,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      past_revenue) AS usual
  FROM history
  GROUP BY
    branch_id,
    business_date,
    revenue
  HAVING
    COUNT(*) >= 4
), spread AS (
  SELECT
    u.branch_id,
    u.business_date,
    u.revenue,
    u.usual,
    u.weeks,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      ABS(h.past_revenue - u.usual)) AS mad
  FROM usual AS u
  JOIN history AS h
    ON h.branch_id = u.branch_id AND h.business_date = u.business_date
  GROUP BY
    u.branch_id,
    u.business_date,
    u.revenue,
    u.usual,
    u.weeks
)
SELECT
  m.business_date,
  m.branch_id,
  d.branch_name,
  d.region,
  m.revenue,
  CAST(m.usual AS DECIMAL(14, 2)) AS usual_revenue,
  CAST(m.weeks AS BIGINT) AS weeks_compared,
  CAST(ROUND(CAST((
    m.revenue - m.usual
  ) / (
    1.4826 * m.mad
  ) AS DECIMAL(12, 4)), 1) AS DECIMAL(8, 1)) AS deviation,
  CASE WHEN m.revenue > m.usual THEN 'high' ELSE 'low' END AS direction
FROM spread AS m
JOIN daily AS d
  ON d.branch_id = m.branch_id AND d.business_date = m.business_date
WHERE
  m.mad > 0
  AND ABS(m.revenue - m.usual) > 3 * 1.4826 * m.mad
  AND ABS(m.revenue - m.usual) >= 0.2 * m.usual;

CREATE VIEW repeat_visits AS
SELECT
  v.business_date,
  v.branch_id,
  b.branch_name,
  b.region,
  CAST(v.identified AS BIGINT) AS identified_transactions,
  CAST(v.identified - COALESCE(f.first_visits, 0) AS BIGINT) AS repeat_transactions
FROM (
  SELECT
    business_date,
    branch_id,
    COUNT(*) AS identified
  FROM transactions
  WHERE
    customer_token IS NOT NULL
  GROUP BY
    business_date,
    branch_id
) AS v
LEFT JOIN (
  SELECT
    CAST(first_seen AS DATE) AS business_date,
    branch_id,
    COUNT(*) AS first_visits
  FROM (
    SELECT
      branch_id,
      customer_token,
      MIN(occurred_at) AS first_seen
    FROM transactions
    WHERE
      customer_token IS NOT NULL
    GROUP BY
      branch_id,
      customer_token
  ) AS x
  GROUP BY
    CAST(first_seen AS DATE),
    branch_id
) AS f
  ON f.business_date = v.business_date AND f.branch_id = v.branch_id
JOIN branches AS b
  ON b.branch_id = v.branch_id;

CREATE VIEW rejected_rows_daily AS
SELECT
  COALESCE(f.business_date, CAST(f.loaded_at AS DATE)) AS business_date,
  f.branch_id,
  COALESCE(b.branch_name, 'Unknown') AS branch_name,
  COALESCE(b.region, 'Unassigned') AS region,
  r.reason,
  CAST(COUNT(*) AS BIGINT) AS rejected_rows
FROM rejected_rows AS r
JOIN loaded_files AS f
  ON f.file_id = r.file_id AND f.status = 'loaded'
LEFT JOIN branches AS b
  ON b.branch_id = f.branch_id
GROUP BY
  COALESCE(f.business_date, CAST(f.loaded_at AS DATE)),
  f.branch_id,
  COALESCE(b.branch_name, 'Unknown'),
  COALESCE(b.region, 'Unassigned'),
  r.reason;
