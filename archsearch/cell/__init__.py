"""The cell language: parse, print, validate, hash and exchange cells. Pure data, no torch."""

from .errors import CellError
from .nodes import Assign, Call, Cell, Const, Expr, Ref
from .parse import parse_cell

__all__ = ["Assign", "Call", "Cell", "CellError", "Const", "Expr", "Ref", "parse_cell"]
