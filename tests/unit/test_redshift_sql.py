"""The Redshift-only statements, checked on their text (no Redshift here), and staging on S3."""

import re
from importlib import resources
from typing import cast

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cafe_etl import contract as tables
from cafe_etl.config import load_settings
from cafe_etl.errors import ConfigError
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.redshift import (
    INSERTED_AS_VALUES,
    RedshiftWarehouse,
    check_password,
    copy_statement,
    merge_statement,
    quote_literal,
    values_statement,
)

ROLE = "arn:aws:iam::123456789012:role/cafe-etl-redshift-copy"
URL = f"redshift://etl@cluster.example.eu-west-2.redshift.amazonaws.com:5439/cafe?iam_role={ROLE}&staging=s3://cafe-clean/staging&region=eu-west-2"


def redshift_ddl() -> dict[str, str]:
    """CREATE TABLE statements of the Redshift migrations, by table name."""
    folder = resources.files("cafe_etl.warehouse") / "migrations" / "redshift"
    text = "\n".join(entry.read_text() for entry in folder.iterdir() if entry.name.endswith(".sql"))
    text = re.sub(r"--[^\n]*", "", text)
    statements = [s for s in text.split(";") if "CREATE TABLE" in s]
    return {re.search(r"CREATE TABLE (\w+)", s)[1]: s for s in statements}  # type: ignore[index]


def test_copy_reads_parquet_from_s3_with_the_iam_role() -> None:
    sql = copy_statement("transactions", "s3://cafe-clean/staging/x/transactions.parquet", ROLE)
    assert sql == (
        "COPY transactions FROM 's3://cafe-clean/staging/x/transactions.parquet'"
        f" IAM_ROLE '{ROLE}' FORMAT AS PARQUET"
    )


def test_merge_uses_the_redshift_subset_without_a_target_alias() -> None:
    sql = merge_statement("branches", "branch_id", ["branch_id", "branch_name", "region"], "staged")
    assert sql.startswith(
        "MERGE INTO branches USING staged ON branches.branch_id = staged.branch_id"
    )
    assert (
        "WHEN MATCHED THEN UPDATE SET branch_name = staged.branch_name, region = staged.region"
        in sql
    )
    assert sql.endswith(
        "WHEN NOT MATCHED THEN INSERT (branch_id, branch_name, region)"
        " VALUES (staged.branch_id, staged.branch_name, staged.region)"
    )


def test_redshift_ddl_declares_every_contract_table_with_its_columns_in_order() -> None:
    ddl = redshift_ddl()
    for name, schema in [
        ("branches", tables.BRANCHES),
        ("products", tables.PRODUCTS),
        ("transactions", tables.TRANSACTIONS),
        ("basket_items", tables.BASKET_ITEMS),
        ("loaded_files", tables.LOADED_FILES),
        ("rejected_rows", tables.REJECTED_ROWS),
    ]:
        columns = re.findall(r"^\s+([a-z_][a-z0-9_]*)\s+[A-Z]", ddl[name], flags=re.MULTILINE)
        assert columns == schema.names, name


def test_facts_are_co_located_on_the_transaction_key_and_sorted_by_time() -> None:
    ddl = redshift_ddl()
    assert "DISTKEY (transaction_id)" in ddl["transactions"]
    assert "DISTKEY (transaction_id)" in ddl["basket_items"]
    sortkey = re.search(r"SORTKEY \(([^)]*)\)", ddl["transactions"])
    assert sortkey is not None and "occurred_at" in sortkey[1] and "business_date" in sortkey[1]


def test_small_dimensions_are_copied_to_every_node_and_nothing_uses_identity() -> None:
    ddl = redshift_ddl()
    for name in ("branches", "products", "loaded_files", "etl_settings"):
        assert "DISTSTYLE ALL" in ddl[name], name
    assert not any("IDENTITY" in statement.upper() for statement in ddl.values())
    assert all("NUMERIC(10, 2)" in ddl[t] for t in ("transactions", "basket_items"))


def test_a_redshift_url_without_iam_role_or_staging_names_what_to_add() -> None:
    with pytest.raises(ConfigError, match=r"iam_role=ARN&staging=s3://"):
        connect("redshift://etl@cluster.example.com:5439/cafe")


def test_a_batch_is_staged_as_one_parquet_object_with_exact_types(aws: None) -> None:
    # GIVEN a transactions batch with exact money
    warehouse = connect(URL)
    assert isinstance(warehouse, RedshiftWarehouse)
    rows = pa.table(
        {
            "transaction_id": [1, 2],
            "branch_id": [10, 10],
            "occurred_at": pa.array([0, 60], pa.timestamp("s")),
            "business_date": pa.array([0, 0], pa.date32()),
            "payment_method": ["CARD", "CASH"],
            "total_amount": tables.money(pa.array([215, 1999], pa.int64())),
            "customer_token": ["ab" * 32, None],
            "file_id": [7, 7],
        },
        schema=tables.TRANSACTIONS,
    )
    # WHEN it is staged
    uri = warehouse.stage("transactions", rows)
    # THEN one Parquet object under the staging prefix holds the same rows and types
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    assert bucket == "cafe-clean" and key.startswith("staging/") and key.endswith(".parquet")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    staged = pq.read_table(pa.BufferReader(body))
    assert staged.schema.field("total_amount").type == pa.decimal128(10, 2)
    assert staged.column("total_amount").to_pylist() == rows.column("total_amount").to_pylist()
    assert staged.drop(["occurred_at"]).equals(rows.drop(["occurred_at"]))


def test_the_password_comes_from_an_ssm_secure_string_named_in_the_settings(aws: None) -> None:
    boto3.client("ssm").put_parameter(
        Name="/cafe-etl/redshift/password", Value="from-ssm", Type="SecureString"
    )
    settings = load_settings(redshift_password_parameter="/cafe-etl/redshift/password")
    warehouse = connect(URL, password=settings.warehouse_password())
    assert isinstance(warehouse, RedshiftWarehouse)
    assert warehouse.connect_arguments()["password"] == "from-ssm"


def test_a_missing_ssm_parameter_is_one_line_naming_it(aws: None) -> None:
    settings = load_settings(redshift_password_parameter="/cafe-etl/missing")
    with pytest.raises(ConfigError, match="cannot read SSM parameter /cafe-etl/missing"):
        settings.warehouse_password()


def test_without_any_password_source_the_message_names_both_ways_to_give_one() -> None:
    warehouse = connect(URL)
    assert isinstance(warehouse, RedshiftWarehouse)
    with pytest.raises(
        ConfigError,
        match=r"CAFE_ETL_REDSHIFT_PASSWORD, CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER .* or auth=iam",
    ):
        warehouse.connect_arguments()


# -- the Parquet COPY path: every column it fills has a type Spectrum documents ----------------

PARQUET_TO_REDSHIFT = {
    "int32": {"INTEGER", "INT", "INT4"},
    "int64": {"BIGINT", "INT8"},
    "string": {"VARCHAR", "CHAR"},
    "date32[day]": {"DATE"},
    "timestamp[us]": {"TIMESTAMP"},
}
"""Parquet types, as pyarrow reads them back, and the Redshift column types a Parquet COPY
fills from each (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_EXTERNAL_TABLE.html,
"Data types": no TIMESTAMPTZ; decimal(p, s) to DECIMAL/NUMERIC of the same p and s)."""


def ddl_types(statement: str) -> dict[str, str]:
    found = re.findall(r"^\s+([a-z_]+)\s+([A-Z]+(?:\s*\([^)]*\))?)", statement, re.MULTILINE)
    return {column: kind for column, kind in found}


def accepts(arrow_type: pa.DataType, redshift_type: str) -> bool:
    base = redshift_type.split("(")[0].strip()
    if pa.types.is_decimal(arrow_type):
        size = re.sub(r"\s", "", redshift_type.partition("(")[2].rstrip(")"))
        t = cast(pa.Decimal128Type, arrow_type)
        return base in {"NUMERIC", "DECIMAL"} and size == f"{t.precision},{t.scale}"
    return base in PARQUET_TO_REDSHIFT.get(str(arrow_type), set())


def staged_tables(aws_warehouse: RedshiftWarehouse) -> dict[str, pa.Schema]:
    """What the adapter stages for real batches of a generated file with a bad row."""
    import tempfile
    from datetime import date
    from pathlib import Path

    from cafe_etl.generate import generate
    from cafe_etl.transform.file import transform_file
    from cafe_etl.transform.redact import Tokeniser

    folder = Path(tempfile.mkdtemp())
    (path,) = generate(folder, branches=1, days=1, start=date(2024, 5, 6), seed=1).files
    path.write_text(path.read_text() + "not a sale\n")
    with path.open("rb") as raw:
        batches = list(transform_file(raw, 1, Tokeniser(b"k")))
    tables_by_name = {
        name: pa.concat_tables([getattr(b, name) for b in batches])
        for name in ("transactions", "basket_items", "rejected_rows", "branches", "products")
    }
    assert tables_by_name["rejected_rows"].num_rows == 1
    schemas = {}
    for name, rows in tables_by_name.items():
        uri = aws_warehouse.stage(name, rows)
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        schemas[name] = pq.read_schema(pa.BufferReader(body))
    return schemas


def test_every_column_a_parquet_copy_fills_has_a_type_that_path_documents(aws: None) -> None:
    warehouse = connect(URL)
    assert isinstance(warehouse, RedshiftWarehouse)
    ddl = redshift_ddl()
    for table, schema in staged_tables(warehouse).items():
        declared = ddl_types(ddl[table])
        # as many columns, in the table's order (COPY of Parquet maps them by position)
        assert schema.names == list(declared), table
        for field in schema:
            assert accepts(field.type, declared[field.name]), (table, field, declared[field.name])


def test_the_ledger_s_timestamptz_is_never_filled_by_a_parquet_copy() -> None:
    declared = ddl_types(redshift_ddl()["loaded_files"])
    assert declared["loaded_at"] == "TIMESTAMPTZ"
    assert "loaded_files" in INSERTED_AS_VALUES
    copied = set(tables.FACT_TABLES) | {"branches", "products"}
    timestamptz = {t for t in copied if "TIMESTAMPTZ" in ddl_types(redshift_ddl()[t]).values()}
    assert timestamptz == set()


def test_nanoseconds_fail_the_staging_rather_than_being_cut(aws: None) -> None:
    warehouse = connect(URL)
    assert isinstance(warehouse, RedshiftWarehouse)
    rows = pa.table({"at": pa.array([1_000_000_001], pa.timestamp("ns"))})
    with pytest.raises(pa.ArrowInvalid, match="would lose data"):
        warehouse.stage("anything", rows)


def test_ledger_rows_go_in_as_one_multi_row_insert_with_placeholders() -> None:
    sql = values_statement("loaded_files", ["file_id", "status"], 3)
    assert sql == "INSERT INTO loaded_files (file_id, status) VALUES (?, ?), (?, ?), (?, ?)"


# -- the reporting user's password --------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Sh0rt", "8 to 64 characters"),
        ("A1" + "a" * 63, "8 to 64 characters"),
        ("nouppercase1", "an upper-case letter"),
        ("NOLOWERCASE1", "a lower-case letter"),
        ("NoDigitsHere", "a digit"),
        ("Has space1A", "printable ASCII"),
        ("Quote'1Abc", "printable ASCII"),
        ("Back\\slash1A", "printable ASCII"),
        ("At@sign1Abc", "printable ASCII"),
        ("Pound£1Abc", "printable ASCII"),
    ],
)
def test_a_password_redshift_would_refuse_is_one_line_naming_the_rule(
    password: str, rule: str
) -> None:
    with pytest.raises(ConfigError, match=rule) as raised:
        check_password(password)
    assert password not in str(raised.value) and "\n" not in str(raised.value)


def test_a_valid_password_passes_and_literals_double_quotes_and_backslashes() -> None:
    check_password("Read0nly!#$%")
    assert quote_literal("it's a \\ test") == "'it''s a \\\\ test'"


# -- connecting ---------------------------------------------------------------------------


def test_iam_authentication_needs_no_password_for_a_cluster_or_a_workgroup() -> None:
    cluster = RedshiftWarehouse(URL + "&auth=iam&cluster_identifier=cafe")
    arguments = cluster.connect_arguments()
    assert arguments["iam"] is True and arguments["cluster_identifier"] == "cafe"
    assert arguments["db_user"] == "etl" and arguments["region"] == "eu-west-2"
    assert "password" not in arguments
    serverless = RedshiftWarehouse(URL + "&auth=iam&workgroup=cafe-wg")
    assert serverless.connect_arguments()["serverless_work_group"] == "cafe-wg"
    assert serverless.connect_arguments()["is_serverless"] is True


def test_iam_authentication_without_its_cluster_is_one_line_naming_what_to_add() -> None:
    with pytest.raises(ConfigError, match="auth=iam needs region= and cluster_identifier="):
        RedshiftWarehouse(URL.replace("&region=eu-west-2", "") + "&auth=iam")


def test_connections_time_out_and_keep_alive() -> None:
    arguments = RedshiftWarehouse(URL + "&connect_timeout=3", password="x").connect_arguments()
    assert arguments["timeout"] == 3.0 and arguments["tcp_keepalive"] is True
    with pytest.raises(ConfigError, match="connect_timeout must be a number of seconds"):
        RedshiftWarehouse(URL + "&connect_timeout=soon")


def test_the_ssm_parameter_is_read_in_the_warehouse_s_region(aws: None) -> None:
    # GIVEN the password stored beside the cluster, in another region than the default
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/cafe-etl/pw", Value="from-us-east-1", Type="SecureString"
    )
    url = URL.replace("region=eu-west-2", "region=us-east-1")
    settings = load_settings(warehouse=url, redshift_password_parameter="/cafe-etl/pw")
    assert settings.warehouse_password() == "from-us-east-1"


def test_the_warehouse_keeps_one_s3_client(aws: None) -> None:
    warehouse = RedshiftWarehouse(URL)
    warehouse.stage("a", pa.table({"x": [1]}))
    first = warehouse.s3
    warehouse.stage("b", pa.table({"x": [2]}))
    assert warehouse.s3 is first


def test_with_iam_authentication_no_password_is_read_from_ssm() -> None:
    # the parameter named does not exist: reading it would fail the cold start
    settings = load_settings(
        warehouse=URL + "&auth=iam&cluster_identifier=cafe",
        redshift_password_parameter="/cafe-etl/not-created",
    )
    assert settings.warehouse_password() is None
