"""The Redshift-only statements, checked on their text (no Redshift here), and staging on S3."""

import re
from importlib import resources

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cafe_etl import contract as tables
from cafe_etl.config import load_settings
from cafe_etl.errors import ConfigError
from cafe_etl.warehouse import connect
from cafe_etl.warehouse.redshift import RedshiftWarehouse, copy_statement, merge_statement

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
    assert warehouse._password() == "from-ssm"


def test_a_missing_ssm_parameter_is_one_line_naming_it(aws: None) -> None:
    settings = load_settings(redshift_password_parameter="/cafe-etl/missing")
    with pytest.raises(ConfigError, match="cannot read SSM parameter /cafe-etl/missing"):
        settings.warehouse_password()


def test_without_any_password_source_the_message_names_both_ways_to_give_one() -> None:
    warehouse = connect(URL)
    assert isinstance(warehouse, RedshiftWarehouse)
    with pytest.raises(
        ConfigError, match=r"CAFE_ETL_REDSHIFT_PASSWORD or CAFE_ETL_REDSHIFT_PASSWORD_PARAMETER"
    ):
        warehouse._password()
