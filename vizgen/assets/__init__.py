"""Offline assets: what the course needs, where it comes from, and how it is verified."""

from vizgen.assets.sources import SOURCES, AssetFile, Source
from vizgen.assets.fetch import asset_path, fetch, verify

__all__ = ["SOURCES", "AssetFile", "Source", "asset_path", "fetch", "verify"]
