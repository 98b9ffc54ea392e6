"""Reading, typing, profiling and splitting tabular data."""

from autopilot.data.load import SourceInfo, read_table, table_from_pandas
from autopilot.data.profile import profile_table
from autopilot.data.split import split_train_validation
from autopilot.data.types import ColumnKind

__all__ = [
    "ColumnKind",
    "SourceInfo",
    "profile_table",
    "read_table",
    "split_train_validation",
    "table_from_pandas",
]
