"""Settings from the environment (and a `.env` file), read once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "vectra"


class Settings(BaseSettings):
    """Every knob Vectra reads; environment names are given by `validation_alias`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Owner connection: runs migrations. Unset -> the embedded PostgreSQL in data_dir.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # Application connection: a role that is not a superuser and does not own the tables.
    # Unset with DATABASE_URL -> connect with DATABASE_URL and `SET ROLE <app_role>`.
    database_app_url: str | None = Field(default=None, validation_alias="DATABASE_APP_URL")
    app_role: str = Field(default="vectra_app", validation_alias="VECTRA_APP_ROLE")
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        validation_alias=AliasChoices("VECTRA_DATA_DIR", "DATA_DIR"),
    )
    secret_key: str | None = Field(default=None, validation_alias="VECTRA_SECRET_KEY")
    base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="VECTRA_BASE_URL")
    log_level: str = Field(default="INFO", validation_alias="VECTRA_LOG_LEVEL")
    log_json: bool = Field(default=True, validation_alias="VECTRA_LOG_JSON")
    db_pool_size: int = Field(default=10, validation_alias="VECTRA_DB_POOL_SIZE")
    metrics_token: str | None = Field(default=None, validation_alias="VECTRA_METRICS_TOKEN")
    # CSV imports: larger uploads are queued as a job with progress; none may exceed the max.
    import_sync_max_bytes: int = Field(
        default=5 * 1024 * 1024, validation_alias="VECTRA_IMPORT_SYNC_MAX_BYTES"
    )
    import_max_bytes: int = Field(
        default=200 * 1024 * 1024, validation_alias="VECTRA_IMPORT_MAX_BYTES"
    )
    # An import job whose heartbeat is older than this is taken for dead (its process stopped)
    # and queued again, at most `import_max_attempts` runs in all; then it fails.
    import_stale_after_s: int = Field(default=300, validation_alias="VECTRA_IMPORT_STALE_AFTER")
    import_max_attempts: int = Field(default=3, validation_alias="VECTRA_IMPORT_MAX_ATTEMPTS")
    # Billing (Stripe). STRIPE_API_BASE points the SDK elsewhere (tests' local server).
    stripe_api_key: str | None = Field(default=None, validation_alias="STRIPE_API_KEY")
    stripe_webhook_secret: str | None = Field(
        default=None, validation_alias="STRIPE_WEBHOOK_SECRET"
    )
    stripe_api_base: str | None = Field(default=None, validation_alias="STRIPE_API_BASE")
    stripe_price_starter_monthly: str | None = Field(
        default=None, validation_alias="STRIPE_PRICE_STARTER_MONTHLY"
    )
    stripe_price_starter_yearly: str | None = Field(
        default=None, validation_alias="STRIPE_PRICE_STARTER_YEARLY"
    )
    stripe_price_growth_monthly: str | None = Field(
        default=None, validation_alias="STRIPE_PRICE_GROWTH_MONTHLY"
    )
    stripe_price_growth_yearly: str | None = Field(
        default=None, validation_alias="STRIPE_PRICE_GROWTH_YEARLY"
    )
    stripe_price_scale_monthly: str | None = Field(
        default=None, validation_alias="STRIPE_PRICE_SCALE_MONTHLY"
    )
    stripe_price_scale_yearly: str | None = Field(
        default=None, validation_alias="STRIPE_PRICE_SCALE_YEARLY"
    )
    # The platform's own mail (verification, password reset, invitations); unset host -> none.
    smtp_host: str | None = Field(default=None, validation_alias="VECTRA_SMTP_HOST")
    smtp_port: int = Field(default=587, validation_alias="VECTRA_SMTP_PORT")
    smtp_user: str | None = Field(default=None, validation_alias="VECTRA_SMTP_USER")
    smtp_password: str | None = Field(default=None, validation_alias="VECTRA_SMTP_PASSWORD")
    smtp_from: str = Field(
        default="Vectra <no-reply@localhost>", validation_alias="VECTRA_SMTP_FROM"
    )
    # "starttls" (port 587), "tls" (implicit, port 465) or "none" (a local relay or test sink).
    smtp_security: str = Field(default="starttls", validation_alias="VECTRA_SMTP_SECURITY")
    # Embeddings: "local" (bundled ONNX MiniLM, offline) or "openai" (any /v1/embeddings API).
    embeddings_provider: str = Field(default="local", validation_alias="VECTRA_EMBEDDINGS_PROVIDER")
    embeddings_url: str | None = Field(default=None, validation_alias="VECTRA_EMBEDDINGS_URL")
    embeddings_api_key: str | None = Field(
        default=None, validation_alias="VECTRA_EMBEDDINGS_API_KEY"
    )
    embeddings_model: str | None = Field(default=None, validation_alias="VECTRA_EMBEDDINGS_MODEL")
    embeddings_timeout_s: float = Field(default=30.0, validation_alias="VECTRA_EMBEDDINGS_TIMEOUT")
    # Chat model for agent refinements (vectra.ai.llm): unset provider -> rules only.
    llm_provider: str | None = Field(default=None, validation_alias="VECTRA_LLM_PROVIDER")
    llm_base_url: str | None = Field(default=None, validation_alias="VECTRA_LLM_BASE_URL")
    llm_api_key: str | None = Field(default=None, validation_alias="VECTRA_LLM_API_KEY")
    llm_model: str | None = Field(default=None, validation_alias="VECTRA_LLM_MODEL")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
