"""Batch transform: predictions for a CSV or Parquet file, or a folder of them, of any size, streamed in chunks so
memory stays bounded by the chunk, written atomically to one CSV.

>>> from autopilot.deploy.batch import batch_predict
>>> batch_predict("autopilot-output/penguins", "big.csv", "predictions.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Full, Queue
from urllib.parse import unquote

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from autopilot.data.heap import release_free_memory
from autopilot.data.load import (
    CSV_SUFFIXES,
    NULL_TOKENS,
    PARQUET_SUFFIXES,
    column_names,
    read_sample,
    sniff_dialect,
)
from autopilot.data.values import text_column
from autopilot.errors import DataError
from autopilot.io import atomic_path
from autopilot.pipeline import AutopilotPipeline

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # a partition folder's name for a missing value
CHUNK_BYTES = 8 << 20  # bytes per chunk, CSV text or Parquet's uncompressed data (peak ~1 GB with a torch model)


def input_files(path: str | Path) -> list[Path]:
    """The file itself, or the CSV and Parquet files anywhere in a folder (Hive partitions too), in path order."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; check the path")
    files = sorted(p for p in path.rglob("*") if _supported(p) and not _hidden(p)) if path.is_dir() else [path]
    if not files or not all(_supported(p) for p in files):
        raise DataError(f"{path}: give a .csv/.tsv/.txt or .parquet file, or a folder holding such files")
    return files


def partition_values(file: Path, root: Path) -> dict[str, str | None]:
    """The columns a Hive-partitioned folder holds in its path (``region=north/``), read as training read them:
    URL-decoded, and Hive's null marker missing."""
    if file == root:
        return {}
    pairs = (part.split("=", 1) for part in file.relative_to(root).parent.parts if "=" in part)
    return {unquote(name): None if value == HIVE_NULL else unquote(value) for name, value in pairs}


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _supported(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)


def chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[pd.DataFrame]:
    """A file's rows, chunk by chunk. CSV values are read as text (the pipeline casts each column to its training
    kind, as it does for any new rows), so a chunk never fails on a type the first chunk did not foresee."""
    for table in arrow_chunks(path, chunk_bytes):
        yield table.to_pandas()


def arrow_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[pa.Table]:
    """``chunks`` as Arrow tables: Parquet's types as stored, CSV values as text."""
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=parquet_rows(parquet.metadata, chunk_bytes)):
            yield pa.Table.from_batches([batch])
        return
    dialect = sniff_dialect(read_sample(path), path)
    names = column_names(dialect.header)
    read = pacsv.ReadOptions(
        encoding=dialect.encoding,
        column_names=names,
        skip_rows=dialect.header_lines,
        block_size=chunk_bytes,
        use_threads=True,
    )
    parse = pacsv.ParseOptions(delimiter=dialect.delimiter, newlines_in_values=dialect.newlines_in_values)
    convert = pacsv.ConvertOptions(  # bytes, decoded per column: a Latin-1 value anywhere reads as at training
        column_types={n: pa.binary() for n in names}, strings_can_be_null=True, null_values=NULL_TOKENS
    )
    try:
        with (
            pa.input_stream(str(path)) as stream,
            pacsv.open_csv(stream, read, parse, convert) as reader,
        ):
            for batch in reader:
                yield pa.table([text_column(c) for c in batch.columns], names=batch.schema.names)
    except pa.ArrowInvalid as exc:
        raise DataError(f"{path}: cannot be read as CSV ({str(exc).splitlines()[0]})") from None


def input_tables(data: str | Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[pa.Table]:
    """Every chunk of a file or folder as Arrow tables, a Hive folder's partition columns added as text."""
    root = Path(data)
    for path in input_files(root):
        partitions = partition_values(path, root)
        for table in arrow_chunks(path, chunk_bytes):
            for name, value in partitions.items():
                table = table.append_column(name, pa.array([value] * table.num_rows, pa.string()))
            yield table


def prefetched(chunks: Iterator[pa.Table], depth: int = 2) -> Iterator[pa.Table]:
    """``chunks``, read ahead by a thread (Arrow parses without holding the GIL, so reading overlaps the work on the
    chunk before); an error while reading is raised here, in order."""
    queue: Queue = Queue(maxsize=depth)
    done = threading.Event()

    def read() -> None:
        try:
            for chunk in chunks:
                while not done.is_set():
                    try:
                        queue.put(chunk, timeout=0.1)
                        break
                    except Full:
                        continue
                if done.is_set():
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(exc)
            return
        queue.put(None)

    thread = threading.Thread(target=read, daemon=True, name="autopilot-read-ahead")
    thread.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        done.set()


def read_rows(data: str | Path) -> pd.DataFrame:
    """Every row of a file or folder as batch predicts them: CSV values as text, partition columns added; the
    pipeline's cast then reads them as training did (not as this file alone would suggest)."""
    root = Path(data)
    frames = [chunk.assign(**partition_values(path, root)) for path in input_files(root) for chunk in chunks(path)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def parquet_rows(metadata: pq.FileMetaData, chunk_bytes: int) -> int:
    """Rows per chunk: as many as hold ``chunk_bytes`` of the file's uncompressed data."""
    data_bytes = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    return max(1, int(chunk_bytes * max(metadata.num_rows, 1) / max(data_bytes, 1)))


def batch_predict(job_dir: str | Path, data: str | Path, output: str | Path, chunk_bytes: int = CHUNK_BYTES) -> int:
    """Predict every row of ``data`` (a file or a folder) with the job's best pipeline into the CSV ``output``;
    returns the number of rows. Nothing is left at ``output`` if it fails part way."""
    pipeline = AutopilotPipeline.load(Path(job_dir) / "best" / "pipeline.joblib")
    rows = 0
    with atomic_path(output) as tmp, open(tmp, "w", newline="", encoding="utf-8") as out:
        for path in input_files(data):
            partitions = partition_values(path, Path(data))
            for chunk in chunks(path, chunk_bytes):
                pipeline.predict_frame(chunk.assign(**partitions)).to_csv(out, header=rows == 0, index=False)
                rows += len(chunk)
                release_free_memory()  # glibc would keep each chunk's freed pages, and the heap would creep up
        if not rows:
            raise DataError(f"{data}: no rows to predict (a header only, or empty files)")
    return rows
