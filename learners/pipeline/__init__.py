"""A learner as a data-pipeline step: score corpus shards into Parquet, filter them on the scores, and the
same as datatrove steps (`datatrove_steps`, imported only when used: datatrove is an optional extra)."""
