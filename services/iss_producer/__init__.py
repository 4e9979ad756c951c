"""Producer: ISS positions from live APIs or SGP4, published to Kafka."""
