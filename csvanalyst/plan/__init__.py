"""QueryPlan DSL, its compiler to DuckDB SQL (sqlglot builders), and the SQL policy."""
