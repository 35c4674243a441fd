"""compliance: find unlicensed republication of news-agency dispatches on web pages."""

__version__ = "0.1.0"
