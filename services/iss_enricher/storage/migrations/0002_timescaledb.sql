-- requires-extension: timescaledb
-- Turn the tables into hypertables with retention, compression and an hourly continuous
-- aggregate. Applied only where the extension is available; every policy here needs the
-- TimescaleDB Community licence (timescaledb.license = 'timescale').

CREATE EXTENSION IF NOT EXISTS timescaledb;

-- Unique keys on a hypertable must contain the time column: (norad_id, event_time) does.
SELECT create_hypertable(
    'positions', 'event_time',
    chunk_time_interval => INTERVAL '1 day',
    migrate_data => true,
    if_not_exists => true
);
SELECT create_hypertable(
    'positions_1m', 'bucket',
    chunk_time_interval => INTERVAL '7 days',
    migrate_data => true,
    if_not_exists => true
);

-- Compression (the "columnstore" in TimescaleDB >= 2.18, which keeps these option names).
ALTER TABLE positions SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'norad_id',
    timescaledb.compress_orderby = 'event_time DESC'
);
SELECT add_compression_policy('positions', INTERVAL '2 days', if_not_exists => true);

SELECT add_retention_policy('positions', INTERVAL '30 days', if_not_exists => true);
SELECT add_retention_policy('positions_1m', INTERVAL '365 days', if_not_exists => true);

-- Hourly statistics kept up to date by TimescaleDB itself, for long-range dashboards.
CREATE MATERIALIZED VIEW IF NOT EXISTS positions_1h
WITH (timescaledb.continuous) AS
SELECT
    norad_id,
    time_bucket(INTERVAL '1 hour', event_time) AS bucket,
    count(*)                                   AS samples,
    avg(ground_speed_kmh)                      AS mean_ground_speed_kmh,
    avg(orbital_speed_kmh)                     AS mean_orbital_speed_kmh,
    min(altitude_km)                           AS min_altitude_km,
    max(altitude_km)                           AS max_altitude_km
FROM positions
GROUP BY norad_id, time_bucket(INTERVAL '1 hour', event_time)
WITH NO DATA;

SELECT add_continuous_aggregate_policy(
    'positions_1h',
    start_offset => INTERVAL '1 day',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes',
    if_not_exists => true
);
