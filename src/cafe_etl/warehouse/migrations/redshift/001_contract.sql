-- The warehouse contract on Amazon Redshift. Same tables and columns as everywhere else;
-- what differs is physical design (https://docs.aws.amazon.com/redshift/latest/dg/c_best-practices-best-dist-key.html):
-- transactions and basket_items are distributed on the transaction key so their join is
-- node-local, and sorted by time / key for the trend queries; the small dimensions are
-- copied to every node (DISTSTYLE ALL). Keys are declared but Redshift enforces none:
-- the loader never relies on them. No IDENTITY columns: keys come from the pipeline.
-- Redshift's VARCHAR(n) counts bytes, not characters: names get 4 bytes a character.

CREATE TABLE branches (
    branch_id     BIGINT NOT NULL PRIMARY KEY,
    branch_name   VARCHAR(800) NOT NULL,
    region        VARCHAR(400) NOT NULL
) DISTSTYLE ALL SORTKEY (branch_id);

CREATE TABLE products (
    product_id    BIGINT NOT NULL PRIMARY KEY,
    product_name  VARCHAR(800) NOT NULL,
    size          VARCHAR(20),
    flavour       VARCHAR(800)
) DISTSTYLE ALL SORTKEY (product_id);

CREATE TABLE transactions (
    transaction_id  BIGINT NOT NULL,
    branch_id       BIGINT NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,
    business_date   DATE NOT NULL,
    payment_method  VARCHAR(4) NOT NULL,
    total_amount    NUMERIC(10, 2) NOT NULL,
    customer_token  VARCHAR(64),
    file_id         BIGINT NOT NULL
) DISTKEY (transaction_id) COMPOUND SORTKEY (business_date, branch_id, occurred_at);

CREATE TABLE basket_items (
    transaction_id  BIGINT NOT NULL,
    product_id      BIGINT NOT NULL,
    unit_price      NUMERIC(10, 2) NOT NULL,
    quantity        INTEGER NOT NULL
) DISTKEY (transaction_id) SORTKEY (transaction_id);

CREATE TABLE loaded_files (
    file_id        BIGINT NOT NULL PRIMARY KEY,
    file_name      VARCHAR(4000) NOT NULL,
    source_uri     VARCHAR(8000) NOT NULL,
    sha256         CHAR(64) NOT NULL,
    branch_id      BIGINT,
    business_date  DATE,
    variant        VARCHAR(1),
    status         VARCHAR(12) NOT NULL,
    reason         VARCHAR(20),
    rows_read      BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    loaded_at      TIMESTAMPTZ NOT NULL
) DISTSTYLE ALL SORTKEY (file_name);

CREATE TABLE rejected_rows (
    file_id      BIGINT NOT NULL,
    line_number  BIGINT NOT NULL,
    reason       VARCHAR(20) NOT NULL,
    detail       VARCHAR(2000)
) DISTKEY (file_id) SORTKEY (file_id, line_number);

CREATE TABLE etl_settings (
    name   VARCHAR(100) NOT NULL PRIMARY KEY,
    value  VARCHAR(1000) NOT NULL
) DISTSTYLE ALL;
