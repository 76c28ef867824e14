"""Settings: the only place that reads the environment. Frozen once built."""

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cafe_etl.errors import ConfigError

DEFAULT_WAREHOUSE = "duckdb:///cafe.duckdb"


class Settings(BaseSettings):
    """cafe-etl settings, from ``CAFE_ETL_*`` environment variables or CLI options."""

    model_config = SettingsConfigDict(env_prefix="CAFE_ETL_", frozen=True, extra="ignore")

    warehouse: str = DEFAULT_WAREHOUSE
    """Warehouse URL: ``duckdb:///path``, ``postgresql://…`` or ``redshift://…``."""
    landing: Path = Path("data/landing")
    """Folder searched recursively for raw ``*.csv`` exports."""
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

    def warehouse_password(self) -> str | None:
        """The Redshift password from the environment or SSM (None: the URL's, if any)."""
        if self.redshift_password:
            return self.redshift_password.get_secret_value()
        if self.redshift_password_parameter:
            return read_secure_string(self.redshift_password_parameter)
        return None

    @property
    def token_key_bytes(self) -> bytes | None:
        return self.token_key.get_secret_value().encode() if self.token_key else None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with CLI options (None means not given) on top."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "CAFE_ETL_" + str(first["loc"][0]).upper() if first["loc"] else "a setting"
        raise ConfigError(f"{name}: {first['msg']}") from None


def read_secure_string(name: str) -> str:
    """A SecureString from SSM Parameter Store, decrypted."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
    except (BotoCoreError, ClientError) as error:
        raise ConfigError(f"cannot read SSM parameter {name}: {error}") from None
    return str(response["Parameter"]["Value"])
