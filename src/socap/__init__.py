"""SOCAP: campaign monitoring for launches on X."""

__version__ = "0.1.0"
