"""`tinypipe run`: the tinypipe.toml config, cached stages and the report."""
