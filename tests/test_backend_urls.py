"""Source URLs for the engines: leadsla's own keys taken out, the rest left to the engine."""

from __future__ import annotations

import pytest

from leadsla.errors import ConfigError
from leadsla.io.backends import parse_url


def test_pyspark_url_with_a_bracketed_master_path_and_settings() -> None:
    u = parse_url("pyspark://local[2]?path=/data/crm&spark.driver.memory=2g")
    assert (u.scheme, u.master, u.path) == ("pyspark", "local[2]", "/data/crm")
    assert u.spark == {"spark.driver.memory": "2g"}
    assert u.schema is None and u.catalog is None


def test_pyspark_url_with_a_catalog_and_a_master_url() -> None:
    u = parse_url("pyspark://spark://host:7077?catalog=main&schema=hubspot")
    assert (u.master, u.catalog, u.schema) == ("spark://host:7077", "main", "hubspot")
    assert parse_url("pyspark://?schema=s").master == "local[*]"


def test_pyspark_url_errors() -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        parse_url("pyspark://local[2]?pth=/data")
    with pytest.raises(ConfigError, match="either path"):
        parse_url("pyspark://local[2]?path=/data&schema=s")


def test_database_url_keeps_the_engine_keys() -> None:
    u = parse_url("postgres://me:secret@db:5432/analytics?schema=hubspot&sslmode=require")
    assert u.schema == "hubspot"
    assert u.ibis_url == "postgres://me:secret@db:5432/analytics?sslmode=require"


def test_sqlite_urls_keep_their_slashes() -> None:
    """urlunsplit would turn sqlite:////abs.db into sqlite://abs.db (a relative path)."""
    assert parse_url("sqlite:////tmp/x.db").ibis_url == "sqlite:////tmp/x.db"
    assert parse_url("sqlite:///rel.db").ibis_url == "sqlite:///rel.db"
    assert parse_url("sqlite:////tmp/x.db?schema=main").ibis_url == "sqlite:////tmp/x.db"
