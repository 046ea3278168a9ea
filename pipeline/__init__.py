"""MedS-Ins pipeline: raw biomedical corpora in, a validated instruction-tuning dataset out."""

__version__ = "0.1.0"
