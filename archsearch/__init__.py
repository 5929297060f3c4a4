"""archsearch: search and benchmark recurrent-cell architectures (Jozefowicz et al., ICML 2015)."""

__version__ = "0.1.0"
