-- Positions and their one-minute aggregates, as plain PostgreSQL tables.
-- Column set and keys: docs/contracts.md ("Tables").

CREATE TABLE IF NOT EXISTS positions (
    norad_id            integer          NOT NULL,
    event_time          timestamptz      NOT NULL,
    latitude            double precision NOT NULL,
    longitude           double precision NOT NULL,
    altitude_km         double precision,
    source              text             NOT NULL,
    sequence            bigint,
    ground_speed_kmh    double precision,
    heading_deg         double precision,
    orbital_speed_kmh   double precision,
    subsolar_latitude   double precision NOT NULL,
    subsolar_longitude  double precision NOT NULL,
    ground_daylight     boolean          NOT NULL,
    satellite_sunlit    boolean,
    local_solar_time_h  double precision NOT NULL,
    footprint_radius_km double precision,
    stored_at           timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (norad_id, event_time)
);

-- "Newest row" queries (freshness, live view back-fill).
CREATE INDEX IF NOT EXISTS positions_event_time_idx ON positions (event_time DESC);

CREATE TABLE IF NOT EXISTS positions_1m (
    norad_id               integer          NOT NULL,
    bucket                 timestamptz      NOT NULL,
    samples                integer          NOT NULL,
    mean_ground_speed_kmh  double precision,
    mean_orbital_speed_kmh double precision,
    min_altitude_km        double precision,
    max_altitude_km        double precision,
    PRIMARY KEY (norad_id, bucket)
);

CREATE INDEX IF NOT EXISTS positions_1m_bucket_idx ON positions_1m (bucket DESC);
