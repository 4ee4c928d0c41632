"""Read back: shipments made in BigCommerce by others, and a source store's stock, told to the warehouse."""
