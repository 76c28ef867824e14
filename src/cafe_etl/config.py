"""Settings: the only place that reads the environment. Frozen once built."""

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cafe_etl.errors import ConfigError

DEFAULT_WAREHOUSE = "duckdb:///cafe.duckdb"


class Settings(BaseSettings):
    """cafe-etl settings, from ``CAFE_ETL_*`` environment variables or CLI options."""

    model_config = SettingsConfigDict(env_prefix="CAFE_ETL_", frozen=True, extra="ignore")

    warehouse: str = DEFAULT_WAREHOUSE
    """Warehouse URL: ``duckdb:///path``, ``postgresql://…`` or ``redshift://…``."""
    landing: str = "data/landing"
    """Folder searched recursively for raw ``*.csv`` exports, or ``s3://bucket/prefix``."""
    token_key: SecretStr | None = None
    """Secret key for customer tokens (HMAC-SHA256 of card numbers); unset means no tokens."""
    redshift_password: SecretStr | None = None
    """Redshift password, when the warehouse URL holds none."""
    redshift_password_parameter: str | None = None
    """Name of an SSM Parameter Store SecureString holding the Redshift password."""
    reporting_password: SecretStr | None = None
    """Password of the read-only role ``init-db --reporting-role`` creates."""
    branches_file: Path | None = None
    """The user's branch file (branch, region, opened, closed): overrides the shipped regions."""
    chunk_rows: int = Field(default=100_000, gt=0)
    """Records transformed and loaded at a time within one file."""
    jobs: int = Field(default=1, ge=1, le=64)
    """Loader processes for ``run`` and ``reprocess`` (more than one needs a server warehouse)."""
    group_bytes: int = Field(default=64 << 20, gt=0)
    """Raw bytes after which a database transaction holding several files commits."""
    retry_seconds: float = Field(default=60.0, ge=0)
    """How long a run keeps retrying a warehouse it lost (a restart, a deadlock) before it fails."""
    token_key_parameter: str | None = None
    """Name of an SSM Parameter Store SecureString holding the token key (serverless flow)."""
    clean_bucket: str | None = None
    """S3 bucket the transform handler writes each file's clean tables to, as Parquet."""
    clean_prefix: str = "staged"
    """Key prefix of those objects in the clean bucket."""
    clean_queue_url: str | None = None
    """SQS queue the transform handler sends one message per file to."""
    expected_within_days: int = Field(default=7, ge=1, le=366)
    """The completeness check expects a file every day from each branch that sent one within
    this many days."""
    timezone: str = "Europe/London"
    """Time zone of the branches' trading day (the completeness check's today)."""

    def warehouse_password(self) -> str | None:
        """The Redshift password from the environment or SSM (None: the URL's, if any)."""
        if self.redshift_password:
            return self.redshift_password.get_secret_value()
        options = _url_options(self.warehouse)
        if options.get("auth") == "iam":
            return None  # IAM authentication: the driver gets temporary credentials
        if self.redshift_password_parameter:
            region = options.get("region")
            return read_secure_string(self.redshift_password_parameter, region=region)
        return None

    @property
    def token_key_bytes(self) -> bytes | None:
        """The token key from the environment or SSM (None: no tokens)."""
        if self.token_key:
            return self.token_key.get_secret_value().encode()
        if self.token_key_parameter:
            return read_secure_string(self.token_key_parameter).encode()
        return None

    def required(self, *names: str) -> None:
        """``ConfigError`` naming the first of these settings that is not set."""
        for name in names:
            if not getattr(self, name):
                raise ConfigError(f"CAFE_ETL_{name.upper()} is not set")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with CLI options (None means not given) on top."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "CAFE_ETL_" + str(first["loc"][0]).upper() if first["loc"] else "a setting"
        raise ConfigError(f"{name}: {first['msg']}") from None


SECRET_SECONDS = 300
"""How long a secret read from SSM is cached (Powertools parameters): read at a Lambda's cold
start, again only after this, so a rotated database password is taken within minutes."""
_providers: dict[tuple[str | None, str | None], Any] = {}


def _url_options(url: str) -> dict[str, str]:
    """A URL's query options (none for a malformed URL: its adapter reports it in one line)."""
    try:
        return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}
    except ValueError:
        return {}


def read_secure_string(name: str, *, region: str | None = None) -> str:
    """A SecureString from SSM Parameter Store, decrypted and cached; never logged. In the
    warehouse's region when given: the parameter lives beside the cluster, whatever the
    caller's default region."""
    from aws_lambda_powertools.utilities import parameters

    try:
        value = _ssm(region).get(name, decrypt=True, max_age=SECRET_SECONDS)
    except parameters.exceptions.GetParameterError as error:
        cause = error.__cause__ or error.__context__ or error
        raise ConfigError(f"cannot read SSM parameter {name}: {_first_line(cause)}") from None
    return str(value)


def _ssm(region: str | None = None) -> Any:
    """One Powertools SSM provider (and so one boto3 client and cache) per endpoint and
    region: boto3 fixes the endpoint (``AWS_ENDPOINT_URL``) when a client is made."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    region = region or boto3.session.Session().region_name
    where = (os.environ.get("AWS_ENDPOINT_URL"), region)
    if where not in _providers:
        client = boto3.client("ssm", region_name=region)
        _providers[where] = parameters.SSMProvider(boto3_client=client)
    return _providers[where]


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
