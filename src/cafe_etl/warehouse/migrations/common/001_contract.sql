-- The warehouse contract (DESIGN.md): six tables, the same names on every engine.
-- Keys are deterministic 63-bit integers computed by the pipeline, never by the engine.
-- Facts carry no PRIMARY KEY: uniqueness is the loader's job (Redshift enforces none),
-- and bulk loads run several times faster without the index.

CREATE TABLE branches (
    branch_id     BIGINT PRIMARY KEY,
    branch_name   VARCHAR(200) NOT NULL,
    region        VARCHAR(100) NOT NULL
);

CREATE TABLE products (
    product_id    BIGINT PRIMARY KEY,
    product_name  VARCHAR(200) NOT NULL,
    size          VARCHAR(20),
    flavour       VARCHAR(200)
);

CREATE TABLE transactions (
    transaction_id  BIGINT NOT NULL,
    branch_id       BIGINT NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,
    business_date   DATE NOT NULL,
    payment_method  VARCHAR(4) NOT NULL,
    total_amount    NUMERIC(10, 2) NOT NULL,
    customer_token  VARCHAR(64),
    file_id         BIGINT NOT NULL
);

CREATE TABLE basket_items (
    transaction_id  BIGINT NOT NULL,
    product_id      BIGINT NOT NULL,
    unit_price      NUMERIC(10, 2) NOT NULL,
    quantity        INTEGER NOT NULL
);

CREATE TABLE loaded_files (
    file_id        BIGINT PRIMARY KEY,
    file_name      VARCHAR(1000) NOT NULL,
    source_uri     VARCHAR(4096) NOT NULL,
    sha256         CHAR(64) NOT NULL,
    branch_id      BIGINT,
    business_date  DATE,
    variant        VARCHAR(1),
    status         VARCHAR(12) NOT NULL,
    reason         VARCHAR(20),
    rows_read      BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    loaded_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE rejected_rows (
    file_id      BIGINT NOT NULL,
    line_number  BIGINT NOT NULL,
    reason       VARCHAR(20) NOT NULL,
    detail       VARCHAR(500)
);

CREATE TABLE etl_settings (
    name   VARCHAR(100) PRIMARY KEY,
    value  VARCHAR(1000) NOT NULL
);
