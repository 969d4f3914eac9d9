"""Where daily prices come from: the bundled sample, CSV files and live providers."""

from trainer.sources.base import FetchResult, PriceSource, RawFile, get_source

__all__ = ["FetchResult", "PriceSource", "RawFile", "get_source"]
