"""PostgreSQL / TimescaleDB storage of enriched positions: schema migrations and batched sinks."""
