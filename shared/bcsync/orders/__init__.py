"""Order import: paid orders to the warehouse, once per version."""
