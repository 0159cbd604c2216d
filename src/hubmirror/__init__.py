"""hubmirror: a Hugging Face Hub mirror."""

__version__ = "0.1.0"
